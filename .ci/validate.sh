#!/usr/bin/env bash
# Starts signalfire on a temporary config with local fake sites (one up, one failing) and runs
# the shared validators on what it serves: Nu Html Checker on every page.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=../shared/tools
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up_port=$(free_port); app_port=$(free_port)
mkdir -p "$work/site" && echo "<h1>Social Photo Talk</h1>" > "$work/site/index.html"
python3 -m http.server "$up_port" --bind 127.0.0.1 --directory "$work/site" >/dev/null 2>&1 &
pids+=($!)

cat > "$work/config.toml" <<TOML
[server]
listen = "127.0.0.1:$app_port"
data_dir = "$work/data"
[page]
title = "CI status"
description = "Validator run"
[[monitor]]
id = "blog"
name = "Blog"
group = "Website"
url = "http://127.0.0.1:$up_port/"
interval = "1s"
expect_body = "Social Photo Talk"
[[monitor]]
id = "shop"
name = "Shop"
group = "Website"
url = "http://127.0.0.1:1/"
interval = "1s"
failures_before_down = 1
TOML

cargo build --quiet
./target/debug/signalfire --config "$work/config.toml" 2>"$work/server.log" &
pids+=($!)
base="http://127.0.0.1:$app_port"
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
sleep 3   # a few checks, so the page shows an outage

curl -fsS "$base/" > "$work/index.html"
curl -sS "$base/no-such-page" > "$work/404.html"
"$TOOLS/check-html" "$work/index.html" "$work/404.html"
echo "check-html: 0 errors on / and the 404 page"
