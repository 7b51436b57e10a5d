#!/usr/bin/env bash
# signalfire benchmarks: builds in release mode, measures the figures of the performance
# goals on this machine (127.0.0.1 only) and prints a table with each goal, met or NOT met.
#
#   bench/run.sh            the full run (about 15 minutes after the build)
#   bench/run.sh --quick    shorter windows (about 5 minutes after the build)
#
# Installs what it needs (wrk, nginx) with apt-get when missing. Results also go to
# bench/out/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
OUT=bench/out
rm -rf "$OUT" && mkdir -p "$OUT"
if [ $QUICK = 1 ]; then WRK_SECONDS=5; SCALE_WINDOW=40; RSS50_SECONDS=120; SMALL_WINDOW=45; MID_WINDOW=25; else WRK_SECONDS=15; SCALE_WINDOW=180; RSS50_SECONDS=600; SMALL_WINDOW=120; MID_WINDOW=60; fi

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 500); do curl -fs -o /dev/null "$1" && return 0; sleep 0.02; done; echo "no answer from $1" >&2; return 1; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_seconds() { python3 -c "import sys; f=open('/proc/$1/stat').read().rsplit(') ',1)[1].split(); print((int(f[11])+int(f[12]))/100)"; }

echo "== building (release)"
build_started=$(date +%s)
cargo build --release --quiet --bins --examples
cargo bench --quiet --no-run >/dev/null 2>&1
BUILD_SECONDS=$(( $(date +%s) - build_started ))
BIN=target/release/signalfire
EX=target/release/examples
measure_started=$(date +%s)

# 7. binary size
SIZE_MB=$(python3 -c "import os; print(f'{os.path.getsize(\"$BIN\")/1e6:.1f}')")
echo "   binary: $SIZE_MB MB"

# 5. database size after 90 days of 200 monitors at 60 s
echo "== 5. 90 days of history for 200 monitors"
HIST_PORT=$(free_port)
$EX/bench_history "$OUT/history" 200 90 http://127.0.0.1:9 "127.0.0.1:$HIST_PORT" > "$OUT/history.json"
DB_MB=$(python3 -c "import json; d=json.load(open('$OUT/history.json')); print(f\"{d['db_bytes']/1e6:.1f}\")")
GEN_SECONDS=$(python3 -c "import json; print(json.load(open('$OUT/history.json'))['seconds'])")
echo "   database: $DB_MB MB (written in ${GEN_SECONDS}s)"

# 6. start-up time on that database, to serving /
echo "== 6. start-up on the 90-day database"
STARTUP_MS=$(python3 - "$BIN" "$OUT/history/config.toml" "$HIST_PORT" <<'PY'
import subprocess, sys, time, socket, statistics
binary, config, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
def ready():
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=0.05)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        ok = s.recv(16).startswith(b"HTTP/1.1 200")
        s.close()
        return ok
    except OSError:
        return False
runs = []
for _ in range(5):
    start = time.monotonic()
    p = subprocess.Popen([binary, "--config", config], stderr=subprocess.DEVNULL)
    while not ready():
        time.sleep(0.002)
    runs.append((time.monotonic() - start) * 1000)
    p.terminate(); p.wait()
print(f"{statistics.median(runs):.0f}")
PY
)
echo "   start-up: $STARTUP_MS ms (median of 5)"

# The local target for the scheduling figures.
TARGET_PORT=$(free_port)
$EX/bench_target "$TARGET_PORT" & pids+=($!)
wait_up "http://127.0.0.1:$TARGET_PORT/"

checks_total() { curl -fsS "http://127.0.0.1:$1/metrics" | awk '/^signalfire_checks_total/ {s+=$2} END {print s+0}'; }

# Runs NAME: MONITORS HTTP monitors every INTERVAL against the target; after WARMUP seconds,
# everything the process does over WINDOW seconds divided by the checks it made. Sets
# RUN_CPU_MS, RUN_CHECKS and RUN_RSS_MB (at the end of the window).
cpu_per_check() {
  local name=$1 monitors=$2 interval=$3 warmup=$4 window=$5
  local port pid c0 k0 c1 k1
  port=$(free_port)
  mkdir -p "$OUT/$name"
  python3 - "$OUT/$name" "$port" "$TARGET_PORT" "$monitors" "$interval" <<'PY'
import sys
out, port, target, monitors, interval = sys.argv[1:6]
lines = ["[server]", f'listen = "127.0.0.1:{port}"', 'data_dir = "data"', ""]
for i in range(int(monitors)):
    lines += ["[[monitor]]", f'id = "m{i}"', f'url = "http://127.0.0.1:{target}/m{i}"', f'interval = "{interval}"', ""]
open(f"{out}/config.toml", "w").write("\n".join(lines))
PY
  (cd "$OUT/$name" && exec "$OLDPWD/$BIN" --config config.toml 2>server.log) & pid=$!; pids+=($pid)
  wait_up "http://127.0.0.1:$port/healthz"
  sleep "$warmup"
  c0=$(cpu_seconds $pid); k0=$(checks_total $port)
  sleep "$window"
  c1=$(cpu_seconds $pid); k1=$(checks_total $port)
  RUN_CPU_MS=$(python3 -c "print(f'{($c1-$c0)*1000/max($k1-$k0,1):.3f}')")
  RUN_CHECKS=$((k1-k0))
  RUN_RSS_MB=$(python3 -c "print(f'{$(rss_kib $pid)/1024:.1f}')")
  kill $pid 2>/dev/null || true
}

# 0. CPU per check at the size people run: 50 HTTP monitors every 20 s against the target.
echo "== 0. 50 monitors at 20 s (${SMALL_WINDOW}s measured after 25 s)"
cpu_per_check small 50 20s 25 "$SMALL_WINDOW"
SMALL_CPU_MS=$RUN_CPU_MS; SMALL_RSS_MB=$RUN_RSS_MB; SK=$RUN_CHECKS
echo "   CPU $SMALL_CPU_MS ms/check over $SK checks; RSS $SMALL_RSS_MB MiB"

# 1. status page throughput beside nginx serving the same bytes
echo "== 1. status page under load (wrk, 64 connections, ${WRK_SECONDS}s each)"
PAGE_PORT=$(free_port)
$EX/bench_history "$OUT/page50" 50 0 "http://127.0.0.1:$TARGET_PORT" "127.0.0.1:$PAGE_PORT" >/dev/null
$BIN --config "$OUT/page50/config.toml" 2>"$OUT/page50.log" & PAGE_PID=$!; pids+=($PAGE_PID)
wait_up "http://127.0.0.1:$PAGE_PORT/"
sleep 3
mkdir -p "$OUT/nginx/root" "$OUT/nginx/tmp"
curl -fsS "http://127.0.0.1:$PAGE_PORT/" > "$OUT/nginx/root/index.html"
NGINX_PORT=$(free_port)
cat > "$OUT/nginx/nginx.conf" <<NGX
worker_processes auto;
daemon off;
pid $PWD/$OUT/nginx/nginx.pid;
error_log $PWD/$OUT/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $PWD/$OUT/nginx/tmp; proxy_temp_path $PWD/$OUT/nginx/tmp;
  fastcgi_temp_path $PWD/$OUT/nginx/tmp; uwsgi_temp_path $PWD/$OUT/nginx/tmp; scgi_temp_path $PWD/$OUT/nginx/tmp;
  default_type text/html;
  server { listen 127.0.0.1:$NGINX_PORT; root $PWD/$OUT/nginx/root; location / { index index.html; } }
}
NGX
$NGINX -c "$PWD/$OUT/nginx/nginx.conf" -p "$PWD/$OUT/nginx" & pids+=($!)
wait_up "http://127.0.0.1:$NGINX_PORT/"
PAGE_BYTES=$(stat -c %s "$OUT/nginx/root/index.html")
wrk_run() { wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency "$1" > "$2"; }
wrk_run "http://127.0.0.1:$PAGE_PORT/" "$OUT/wrk-signalfire.txt"
wrk_run "http://127.0.0.1:$NGINX_PORT/" "$OUT/wrk-nginx.txt"
read -r SF_RPS SF_P99 NG_RPS NG_P99 RATIO < <(python3 - "$OUT/wrk-signalfire.txt" "$OUT/wrk-nginx.txt" <<'PY'
import re, sys
def parse(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", text).groups()
    ms = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    return rps, ms
s, n = parse(sys.argv[1]), parse(sys.argv[2])
print(f"{s[0]:.0f} {s[1]:.2f} {n[0]:.0f} {n[1]:.2f} {s[0]/n[0]:.2f}")
PY
)
echo "   signalfire: $SF_RPS req/s, p99 $SF_P99 ms; nginx: $NG_RPS req/s, p99 $NG_P99 ms; ratio $RATIO (page: $PAGE_BYTES bytes)"
RSS50_STARTED=$(date +%s)

# 2. cold render of 500 monitors with 90 days (criterion)
echo "== 2. cold render, 500 monitors x 90 days (criterion)"
cargo bench --quiet --bench render -- --noplot "cold render|first render" > "$OUT/criterion.txt" 2>&1 || true
read -r RENDER_MS FIRST_RENDER_MS < <(python3 - "$OUT/criterion.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(name):
    m = re.search(re.escape(name) + r".*?time:\s+\[\S+ \S+ ([\d.]+) (ns|µs|us|ms|s)", text, re.S)
    if not m:
        return "n/a"
    value, unit = float(m.group(1)), m.group(2)
    return f"{value * {'ns': 1e-6, 'µs': 1e-3, 'us': 1e-3, 'ms': 1, 's': 1000}[unit]:.1f}"
print(ms("cold render"), ms("first render after start"))
PY
)
echo "   cold render: $RENDER_MS ms (the first after a start, reading the whole window: $FIRST_RENDER_MS ms)"

# 3. 10,000 http monitors at 60 s against the local target
echo "== 3. 10,000 monitors at 60 s (${SCALE_WINDOW}s measured after the first interval)"
SCALE_PORT=$(free_port)
$EX/bench_history "$OUT/scale" 10000 0 "http://127.0.0.1:$TARGET_PORT" "127.0.0.1:$SCALE_PORT" >/dev/null
$BIN --config "$OUT/scale/config.toml" 2>"$OUT/scale.log" & SCALE_PID=$!; pids+=($SCALE_PID)
wait_up "http://127.0.0.1:$SCALE_PORT/healthz"
sleep 62
curl -fsS "http://127.0.0.1:$SCALE_PORT/metrics" > "$OUT/metrics-first.txt"
CPU0=$(cpu_seconds $SCALE_PID)
sleep 8
curl -fsS "http://127.0.0.1:$SCALE_PORT/metrics" > "$OUT/metrics-start.txt"
CPU1=$(cpu_seconds $SCALE_PID)
sleep "$SCALE_WINDOW"
curl -fsS "http://127.0.0.1:$SCALE_PORT/metrics" > "$OUT/metrics-end.txt"
CPU2=$(cpu_seconds $SCALE_PID)
RSS10K_MB=$(python3 -c "print(f'{$(rss_kib $SCALE_PID)/1024:.1f}')")
read -r FIRST_ALL CHECKS_PER_S CPU_MS P50 P99 MISSED < <(python3 - "$OUT" "$CPU1" "$CPU2" "$SCALE_WINDOW" <<'PY'
import re, sys
out, cpu1, cpu2, window = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]) + 0.0
def read(name):
    checks, buckets = {}, {}
    for line in open(f"{out}/{name}"):
        m = re.match(r'signalfire_checks_total\{monitor="([^"]+)",result="[^"]+"\} ([\d.e+]+)', line)
        if m:
            checks[m.group(1)] = checks.get(m.group(1), 0) + float(m.group(2))
        m = re.match(r'signalfire_schedule_lateness_seconds_bucket\{le="([^"]+)"\} ([\d.e+]+)', line)
        if m:
            buckets[m.group(1)] = float(m.group(2))
    return checks, buckets
first, _ = read("metrics-first.txt")
start, b0 = read("metrics-start.txt")
end, b1 = read("metrics-end.txt")
first_all = sum(1 for i in range(10000) if first.get(f"m{i}", 0) >= 1)
done = sum(end.values()) - sum(start.values())
expected = window / 60
missed = sum(1 for i in range(10000) if abs((end.get(f"m{i}", 0) - start.get(f"m{i}", 0)) - expected) > 1)
def quantile(q):
    edges = sorted(((float("inf") if k == "+Inf" else float(k)), b1[k] - b0.get(k, 0)) for k in b1)
    total = edges[-1][1]
    for edge, count in edges:
        if count >= q * total:
            return edge * 1000
    return float("nan")
cpu_ms = (cpu2 - cpu1) * 1000 / done if done else float("nan")
print(f"{first_all} {done / (window + 0.0):.0f} {cpu_ms:.3f} {quantile(0.5):.0f} {quantile(0.99):.0f} {missed}")
PY
)
echo "   first result within one interval: $FIRST_ALL/10000 monitors; $CHECKS_PER_S checks/s; CPU $CPU_MS ms/check"
echo "   lateness p50 <= $P50 ms, p99 <= $P99 ms (histogram bucket bounds); monitors off by more than one check: $MISSED"

kill $SCALE_PID 2>/dev/null || true

# 3e. 2,000 HTTP monitors every 10 s against the target (200 checks/s): CPU per check.
echo "== 3e. 2,000 monitors at 10 s (${MID_WINDOW}s measured after 12 s)"
cpu_per_check mid 2000 10s 12 "$MID_WINDOW"
MID_CPU_MS=$RUN_CPU_MS
echo "   CPU $MID_CPU_MS ms/check over $RUN_CHECKS checks"

# 4. memory
remaining=$(( RSS50_SECONDS - ($(date +%s) - RSS50_STARTED) ))
[ $remaining -gt 0 ] && { echo "== 4. waiting ${remaining}s more for the 50-monitor RSS"; sleep $remaining; }
RSS50_MB=$(python3 -c "print(f'{$(rss_kib $PAGE_PID)/1024:.1f}')")
echo "   RSS: $RSS50_MB MiB with 50 monitors after ${RSS50_SECONDS}s; $RSS10K_MB MiB with 10,000"

# 8-9. notification fan-out: one incident update to 10,000 confirmed e-mail subscribers
# through a local SMTP sink, and to 500 webhook channels of which one never answers.
echo "== 8. fan-out: 10,000 e-mail subscribers"
$EX/bench_fanout "$BIN" "$OUT/fanout-mail" subscribers 10000 > "$OUT/fanout-mail.json"
echo "== 9. fan-out: 500 webhook channels, one hanging"
$EX/bench_fanout "$BIN" "$OUT/fanout-hooks" webhooks 500 > "$OUT/fanout-hooks.json"
read -r MAIL_S MAIL_OK MAIL_RSS HOOK_S HOOK_OK < <(python3 - "$OUT" <<'PY'
import json, sys
m = json.load(open(f"{sys.argv[1]}/fanout-mail.json"))
h = json.load(open(f"{sys.argv[1]}/fanout-hooks.json"))
def s(v):
    return "n/a" if v is None else f"{v:.2f}"
print(s(m["all_accepted_s"]), f"{m['accepted']}/{m['delivered']}",
      f"{(m['rss_peak_kib'] - m['rss_before_kib']) / 1024:.1f}",
      s(h["all_accepted_s"]), f"{h['accepted']}/{h['delivered']}")
PY
)
echo "   mail: all accepted in $MAIL_S s (accepted/recorded delivered: $MAIL_OK), RSS +$MAIL_RSS MiB"
echo "   webhooks: 499 delivered in $HOOK_S s (received/recorded delivered: $HOOK_OK)"

# 10. a mass outage in the writer: 1,000 monitors that were up fail at once, with no channel,
# then with one webhook channel and 1,000 e-mail subscribers (each following one monitor).
# Only the writer runs in that process (no server, renderer or notifier): its CPU is the writer's.
echo "== 10. mass outage: 1,000 monitors down, writer CPU without and with notifications"
$EX/bench_outage "$OUT/outage-none" 1000 none > "$OUT/outage-none.json"
$EX/bench_outage "$OUT/outage-webhook" 1000 webhook 1000 > "$OUT/outage-webhook.json"
read -r OUTAGE_NONE OUTAGE_HOOK OUTAGE_RATIO OUTAGE_DELIVERIES < <(python3 - "$OUT" <<'PY'
import json, sys
n = json.load(open(f"{sys.argv[1]}/outage-none.json"))
w = json.load(open(f"{sys.argv[1]}/outage-webhook.json"))
ratio = w["cpu_s"] / n["cpu_s"] if n["cpu_s"] else float("nan")
print(f"{n['cpu_s']:.2f}", f"{w['cpu_s']:.2f}", f"{ratio:.2f}", w["deliveries"])
PY
)
echo "   writer CPU: $OUTAGE_NONE s without a channel, $OUTAGE_HOOK s with a webhook and 1,000 subscribers ($OUTAGE_DELIVERIES deliveries staged): ratio $OUTAGE_RATIO"

MEASURE_SECONDS=$(( $(date +%s) - measure_started ))
verdict() { python3 -c "import sys; v=sys.argv[1]; print('met' if v not in ('n/a','nan') and eval(sys.argv[1] + sys.argv[2]) else 'NOT met')" "$1" "$2"; }
{
  echo "| # | figure | value | goal | |"
  echo "|---|---|---|---|---|"
  echo "| 0 | 50 HTTP monitors at 20 s: CPU per check (all the process did / checks), RSS | $SMALL_CPU_MS ms; $SMALL_RSS_MB MiB | ≤ 0.25 ms | $(verdict "$SMALL_CPU_MS" "<=0.25") |"
  echo "| 1 | status page, 64 connections: signalfire vs nginx (same $PAGE_BYTES bytes) | $SF_RPS vs $NG_RPS req/s (ratio $RATIO); p99 $SF_P99 vs $NG_P99 ms | ratio ≥ 1.0, p99 ≤ nginx's | $(verdict "$RATIO >= 1.0 and $SF_P99" "<=$NG_P99") |"
  echo "| 2 | cold render (after a change: every file), 500 monitors × 90 days; the first after a start | $RENDER_MS ms; $FIRST_RENDER_MS ms | ≤ 10 ms | $(verdict "$RENDER_MS" "<=10") |"
  echo "| 3a | 10,000 monitors at 60 s: CPU per check | $CPU_MS ms | ≤ 0.2 ms | $(verdict "$CPU_MS" "<=0.2") |"
  echo "| 3e | 2,000 monitors at 10 s: CPU per check | $MID_CPU_MS ms | ≤ 0.2 ms | $(verdict "$MID_CPU_MS" "<=0.2") |"
  echo "| 3b | start lateness p50 / p99 | ≤ $P50 / ≤ $P99 ms | p99 ≤ 1000 ms | $(verdict "$P99" "<=1000") |"
  echo "| 3c | first result within one interval | $FIRST_ALL / 10000 monitors | all | $(verdict "$FIRST_ALL" "==10000") |"
  echo "| 3d | checks recorded per second; monitors off by > 1 check in ${SCALE_WINDOW}s | $CHECKS_PER_S /s; $MISSED | 166.7 /s; 0 | $(verdict "$MISSED" "==0") |"
  echo "| 4 | RSS, 50 monitors after ${RSS50_SECONDS}s / 10,000 monitors | $RSS50_MB / $RSS10K_MB MiB | ≤ 12 MiB (50) | $(verdict "$RSS50_MB" "<=12") |"
  echo "| 5 | database after 90 days × 200 monitors at 60 s | $DB_MB MB | ≤ 60 MB | $(verdict "$DB_MB" "<=60") |"
  echo "| 6 | start-up on that database to serving / | $STARTUP_MS ms | ≤ 300 ms | $(verdict "$STARTUP_MS" "<=300") |"
  echo "| 7 | stripped release binary | $SIZE_MB MB | ≤ 12 MB | $(verdict "$SIZE_MB" "<=12") |"
  echo "| 8 | one update to 10,000 confirmed e-mail subscribers (local SMTP sink): all accepted; accepted / recorded delivered; RSS during | $MAIL_S s; $MAIL_OK; +$MAIL_RSS MiB | ≤ 60 s; all; ≤ +20 MiB | $(verdict "'$MAIL_S' != 'n/a' and float('0$MAIL_S') <= 60 and '$MAIL_OK' == '10000/10000' and $MAIL_RSS" "<=20") |"
  echo "| 9 | one update to 500 webhook channels, one never answering: the other 499 delivered; received / recorded | $HOOK_S s; $HOOK_OK | ≤ 10 s; 499/499 | $(verdict "'$HOOK_S' != 'n/a' and float('0$HOOK_S') <= 10 and '$HOOK_OK'" "=='499/499'") |"
  echo "| 10 | 1,000 monitors down at once: writer CPU with a webhook channel and 1,000 subscribers vs none | $OUTAGE_HOOK vs $OUTAGE_NONE s (ratio $OUTAGE_RATIO) | ratio ≤ 2 | $(verdict "$OUTAGE_RATIO" "<=2") |"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(rustc --version)."
  echo "Build ${BUILD_SECONDS}s, measurements ${MEASURE_SECONDS}s ($([ $QUICK = 1 ] && echo quick || echo full) run, $(date -u +%Y-%m-%d))."
} | tee "$OUT/results.md"
