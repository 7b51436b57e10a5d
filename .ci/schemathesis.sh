#!/usr/bin/env bash
# Schemathesis against the OpenAPI document a running signalfire serves (/api/openapi.json):
# every documented operation, every check, with the owner's bearer token and a logged-in
# session (see .ci/schemathesis.toml), on a temporary config with local fake sites, a
# heartbeat, a webhook channel and subscriptions. Exits non-zero on any failure.
#
# Bounded in time: a few examples per operation (about 15 s of testing) and hard timeouts on
# the install and the run, so the step stays under 5 minutes.
# Installs schemathesis (pinned) into a venv in the same cache folder .ci/validators.sh uses;
# uses the debug build (CARGO_TARGET_DIR is honoured).
# SCHEMATHESIS_SEED=N reruns with the seed a failing run printed; SCHEMATHESIS_MAX_EXAMPLES=N
# tests harder (60: about a minute). Failures replay with `$venv/bin/st replay ID` from the
# repository root (the state is kept in .schemathesis/).
set -euo pipefail
cd "$(dirname "$0")/.."
ST_VERSION=4.32.5
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-10}
# Seconds for the install and for the run.
INSTALL_TIMEOUT=120
RUN_TIMEOUT=180
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/signalfire-ci
venv="$CACHE/schemathesis-$ST_VERSION"
st="$venv/bin/schemathesis"

if ! "$st" --version 2>/dev/null | grep -qF "$ST_VERSION"; then
  echo "== installing schemathesis $ST_VERSION" >&2
  mkdir -p "$CACHE" && python3 -m venv "$venv"
  timeout "$INSTALL_TIMEOUT" "$venv/bin/pip" install -q --disable-pip-version-check \
    "schemathesis==$ST_VERSION" >&2
fi

source .ci/harness.sh

# Ids match the document's examples (blog, nightly-backup-7f3a9c, owner-hook), so the examples
# phase reaches real resources.
cat > "$work/config.toml" <<TOML
[server]
listen = "127.0.0.1:$app_port"
data_dir = "$work/data"
# The hooks give every request a client address of its own (see .ci/schemathesis_hooks.py).
trusted_proxies = ["127.0.0.1/32"]
[page]
title = "CI status"
description = "Schemathesis run"
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
interval = "5s"
[[monitor]]
id = "nightly"
name = "Nightly backup"
kind = "heartbeat"
token = "nightly-backup-7f3a9c"
grace = "1h"
[smtp]
host = "127.0.0.1"
port = 1
tls = "none"
from = "CI status <status@ci.example>"
[subscribers]
email = true
[[notify]]
id = "owner-hook"
kind = "webhook"
url = "http://127.0.0.1:1/hook"
TOML

cargo build --quiet
bin="${CARGO_TARGET_DIR:-target}/debug/signalfire"
hash=$(printf %s ci-password | "$bin" hash-password)
export SIGNALFIRE_ADMIN_TOKEN=ci-token-0123456789abcdef01234567 SIGNALFIRE_ADMIN_PASSWORD_HASH="$hash"
"$bin" --config "$work/config.toml" 2>"$work/server.log" &
pids+=($!)
base="http://127.0.0.1:$app_port"
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS -o /dev/null "$base/healthz" || { echo "schemathesis: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

# An incident with an update, and a maintenance: ids 1 and 2, the document's examples (the
# failing shop opens its own incident only after three checks, 10 s on).
api() { curl -fsS -H "Authorization: Bearer ci-token-0123456789abcdef01234567" -H "Content-Type: application/json" "$@"; }
id=$(api -X POST "$base/api/admin/incidents" \
  -d '{"name":"Proof galleries load slowly","body":"Looking into it.","components":{"blog":"degraded_performance"}}' \
  | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
api -o /dev/null -X POST "$base/api/admin/incidents/$id/updates" -d '{"status":"identified","body":"Found it."}'
api -o /dev/null -X POST "$base/api/admin/maintenances" \
  -d '{"name":"Order system upgrade","scheduled_for":"2099-01-01T22:00:00Z","scheduled_until":"2099-01-01T23:00:00Z","components":["shop"]}'

# A session for the owner's web UI, the way a browser gets one.
curl -fsS -c "$work/jar" -o "$work/login.html" "$base/admin/login"
csrf=$(python3 -c 'import re, sys; print(re.search(r"name=\"csrf\" value=\"([0-9a-f]+)\"", open(sys.argv[1]).read()).group(1))' "$work/login.html")
curl -sS -o /dev/null -b "$work/jar" -c "$work/jar" --data-urlencode "csrf=$csrf" \
  --data-urlencode username=admin --data-urlencode password=ci-password "$base/admin/login"
SIGNALFIRE_SESSION=$(awk '$6 == "signalfire_session" { print $7 }' "$work/jar")
export SIGNALFIRE_SESSION   # read by .ci/schemathesis.toml
[ -n "$SIGNALFIRE_SESSION" ] || { echo "schemathesis: the owner could not log in" >&2; exit 1; }

seed=()
[ -n "${SCHEMATHESIS_SEED:-}" ] && seed=(--seed "$SCHEMATHESIS_SEED")
started=$(date +%s)
rc=0
PYTHONPATH=.ci SCHEMATHESIS_HOOKS=schemathesis_hooks \
timeout --kill-after=10 "$RUN_TIMEOUT" "$st" --config-file .ci/schemathesis.toml run "$base/api/openapi.json" \
  --checks all \
  --max-examples "$MAX_EXAMPLES" \
  --request-timeout 10 \
  --no-color \
  "${seed[@]}" || rc=$?
echo "schemathesis: finished in $(( $(date +%s) - started )) s with exit code $rc"
if [ "$rc" -ne 0 ] && grep -aq "ERROR" "$work/server.log"; then
  echo "schemathesis: what the server logged as errors:" >&2
  grep -a "ERROR" "$work/server.log" | tail -n 20 >&2
fi
if grep -q "panicked" "$work/server.log"; then
  echo "schemathesis: the server panicked:" >&2
  grep -A5 "panicked" "$work/server.log" >&2
  rc=1
fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "schemathesis: FAILED: did not finish within $RUN_TIMEOUT s" >&2
fi
exit "$rc"
