#!/usr/bin/env bash
# Starts signalfire on a temporary config with local fake sites (one up, one failing) and runs
# the shared validators on what it serves: Nu Html Checker on every page, feedparser on every feed.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/validators.sh
source .ci/harness.sh

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
[[monitor]]
id = "stats"
name = "Statistics job"
kind = "heartbeat"
token = "ci-statistics-token-0001"
schedule = "30 2 * * *"
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
hash=$(printf %s ci-password | ./target/debug/signalfire hash-password)
export SIGNALFIRE_ADMIN_TOKEN=ci-token-0123456789abcdef01234567 SIGNALFIRE_ADMIN_PASSWORD_HASH="$hash"
./target/debug/signalfire --config "$work/config.toml" 2>"$work/server.log" &
pids+=($!)
base="http://127.0.0.1:$app_port"
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
sleep 3   # a few checks, so the page shows an outage

# An owner incident with three updates, and a maintenance, so every page has content.
api() { curl -fsS -H "Authorization: Bearer ci-token-0123456789abcdef01234567" -H "Content-Type: application/json" "$@"; }
id=$(api -X POST "$base/api/admin/incidents" \
  -d '{"name":"Proof galleries load slowly","body":"We are **investigating**.","components":{"blog":"degraded_performance"}}' \
  | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
for step in identified monitoring resolved; do
  api -X POST "$base/api/admin/incidents/$id/updates" -d "{\"status\":\"$step\",\"body\":\"Now *$step*.\"}" >/dev/null
done
# A note pasted from a terminal, with every C0 control character: feeds must still parse.
c0=$(python3 -c 'import json; print(json.dumps({"name": "Backup \x1b[31mfailed\x07", "body": "Log: " + "".join(map(chr, range(32))) + " end", "components": {"blog": "partial_outage"}}))')
api -X POST "$base/api/admin/incidents" -d "$c0" >/dev/null
api -X POST "$base/api/admin/maintenances" -d '{"name":"Order system upgrade","body":"Read-only.","scheduled_for":"2099-01-01T22:00:00Z","scheduled_until":"2099-01-01T23:00:00Z","components":["shop"]}' >/dev/null
# A background job that starts, then fails with its log.
curl -fsS "$base/ping/ci-statistics-token-0001/start" >/dev/null
printf 'reading logs\nERROR: <database> & "host" unreachable\n' | curl -fsS --data-binary @- "$base/ping/ci-statistics-token-0001/3" >/dev/null
sleep 3   # a few checks, so the page shows the outage and its automatic incident

pages=()
fetch() { curl -sS -b "$work/jar" -c "$work/jar" "$base$1" > "$work/$2.html"; pages+=("$work/$2.html"); }
fetch / index
fetch "/incidents/$id" incident
fetch /history history
fetch /no-such-page 404
fetch /admin/login login
csrf=$(python3 -c 'import re, sys; print(re.search(r"name=\"csrf\" value=\"([0-9a-f]+)\"", open(sys.argv[1]).read()).group(1))' "$work/login.html")
curl -sS -o /dev/null -b "$work/jar" -c "$work/jar" --data-urlencode "csrf=$csrf" \
  --data-urlencode username=admin --data-urlencode password=ci-password "$base/admin/login"
fetch /admin dashboard
fetch /admin/incidents/new incident-form
fetch "/admin/incidents/$id" incident-admin
fetch /admin/maintenances/new maintenance-form
fetch /admin/notifications notifications
fetch /admin/jobs jobs
fetch /subscribe subscribe
fetch /embed embed
fetch "/embed?operational=1" embed-operational
fetch "/unsubscribe?token=$(printf 'a%.0s' $(seq 1 64))" unsubscribe
grep -q "Open incidents" "$work/dashboard.html" || { echo "login for the admin pages failed"; exit 1; }
grep -q "unreachable" "$work/jobs.html" || { echo "/admin/jobs does not show the job's output"; exit 1; }
! grep -q "unreachable" "$work/index.html" || { echo "the public page shows a job's output"; exit 1; }
check_html "${pages[@]}"
echo "check-html: 0 errors on ${#pages[@]} pages (public, 404, login, admin)"

# Every feed, through feedparser (what most readers agree with).
feeds=()
for f in feed.rss feed.atom history.rss history.atom components/blog/feed.rss components/blog/feed.atom \
         components/shop/feed.rss components/shop/feed.atom; do
  curl -fsS "$base/$f" > "$work/$(echo "$f" | tr / _)"
  feeds+=("$work/$(echo "$f" | tr / _)")
done
check_feed "${feeds[@]}"
for f in feed components/blog/feed; do
  curl -fsS "$base/$f.json" > "$work/$(echo "$f" | tr / _).json"
done
check_json_feed "$work/feed.json" "$work/feed.atom" \
  "$work/components_blog_feed.json" "$work/components_blog_feed.atom"
for f in maintenance components/shop/maintenance components/blog/maintenance; do
  curl -fsS "$base/$f.ics" > "$work/$(echo "$f" | tr / _).ics"
done
check_ics "$work/maintenance.ics" "$work/components_shop_maintenance.ics" "$work/components_blog_maintenance.ics"
command -v xmllint >/dev/null || { apt-get update -qq && apt-get install -y -qq libxml2-utils >/dev/null; }
xmllint --noout "${feeds[@]}"
echo "check-feed and xmllint: ${#feeds[@]} feeds pass (one note carries every C0 control character)"

# Lighthouse 12, mobile preset: every category >= 0.95 on the status page, an incident, the
# history and the login (installs chromium and lighthouse when missing).
bash .ci/lighthouse.sh "$base" "$id"
