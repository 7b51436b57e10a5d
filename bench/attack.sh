#!/usr/bin/env bash
# signalfire under a connection-exhaustion attack, 127.0.0.1 only. Checks the acceptance line:
#   "With the process limited to 1,024 open files, 1,100 slow-body and 200 never-reading clients
#    at once leave `/` and `/healthz` answering within 1 s throughout."
#
#   bench/attack.sh                   build (release), then a 60 s attack
#   bench/attack.sh --duration 30     any bench/attack.py option is passed on (--help lists them)
#   SIGNALFIRE_BIN=path/to/signalfire bench/attack.sh     use that binary, build nothing
#
# Starts the server on a temporary copy of config.example.toml (a free port on 127.0.0.1, a
# temporary data_dir, monitors pointed at closed ports on 127.0.0.1 and the DNS one removed, an
# admin password hash from `signalfire hash-password`) under `ulimit -n 1024`, runs
# bench/attack.py against it and stops it. Output also goes to bench/out/attack.txt, the server's
# log to bench/out/attack-server.log. Exit status: 0 PASS, 1 FAIL, 2 could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
SERVER_FD_LIMIT=1024

# shellcheck source=bench/local-server.sh
. bench/local-server.sh
sf_setup attack
"$BIN" check-config --config "$CONFIG" >/dev/null
sf_start "$OUT/attack-server.log" "$SERVER_FD_LIMIT"
LIMIT=$(awk '/^Max open files/ {print $4}' "/proc/$SERVER_PID/limits")
[ "$LIMIT" = "$SERVER_FD_LIMIT" ] || { echo "the server's open-file limit is $LIMIT, not $SERVER_FD_LIMIT" >&2; exit 2; }
echo "== server $("$BIN" --version 2>/dev/null || echo signalfire) (git $(git rev-parse --short HEAD 2>/dev/null || echo '?')), pid $SERVER_PID, 127.0.0.1:$PORT, open-file limit $LIMIT; $(nproc) cores, $(uname -sr)"

set +e
python3 bench/attack.py --port "$PORT" --pid "$SERVER_PID" "$@" | tee "$OUT/attack.txt"
RC=${PIPESTATUS[0]}
set -e
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "   the server is no longer running (see $OUT/attack-server.log)" | tee -a "$OUT/attack.txt"
  [ "$RC" = 0 ] && RC=1
else
  stop_started=$(date +%s%N)
  sf_stop
  echo "   server stopped with SIGTERM in $(( ($(date +%s%N) - stop_started) / 1000000 )) ms; its log: $OUT/attack-server.log" | tee -a "$OUT/attack.txt"
fi
exit "$RC"
