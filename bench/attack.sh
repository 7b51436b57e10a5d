#!/usr/bin/env bash
# signalfire under attack, 127.0.0.1 only. Prints each figure with its goal and met / NOT met:
#   1. "`/` answers within 1 s during the 100-address flood at 1,024 open files": 1,100
#      slow-body and 200 never-reading clients from 127.0.0.2..101, server at 1,024 open files;
#   2. "the owner's login answers in under 1 s during a 360-address login flood" (same server);
#   3. "6,000 pipelining never-reading connections from 100 addresses keep RSS under 256 MiB
#      and it falls back within 2x of the start a minute after" (a server at its hard limit).
#   Then every sibling bench/attack-*.sh, if any.
#
#   bench/attack.sh                   build (release), then the three attacks (~4 minutes)
#   bench/attack.sh --duration 30     options for attack 1 passed on to bench/attack.py
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

# serve LIMIT LOG: starts the server with that open-files limit (in its own subshell: only the
# server is limited), on a fresh data dir, and waits until it answers.
serve() {
rm -rf "$TMP/data"
sf_start "$2" "$1"
LIMIT=$(awk '/^Max open files/ {print $4}' "/proc/$SERVER_PID/limits")
[ "$LIMIT" = "$1" ] || { echo "the server's open-file limit is $LIMIT, not $1" >&2; exit 2; }
echo "== server $("$BIN" --version 2>/dev/null || echo signalfire) (git $(git rev-parse --short HEAD 2>/dev/null || echo '?')), pid $SERVER_PID, 127.0.0.1:$PORT, open-file limit $LIMIT; $(nproc) cores, $(uname -sr)" | tee -a "$OUT/attack.txt"
}

# stop LOG: stops the server; a server that died during the attack fails it.
stop() {
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "   the server is no longer running (see $1)" | tee -a "$OUT/attack.txt"
  [ "$RC" = 0 ] && RC=1
else
  stop_started=$(date +%s%N)
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 80); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  echo "   server stopped with SIGTERM in $(( ($(date +%s%N) - stop_started) / 1000000 )) ms; its log: $1" | tee -a "$OUT/attack.txt"
fi
}

# attack ARGS...: bench/attack.py against the running server; the worst exit status is kept.
attack() {
  set +e
  python3 bench/attack.py --port "$PORT" --pid "$SERVER_PID" "$@" | tee -a "$OUT/attack.txt"
  local rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -gt "$RC" ] && RC=$rc
  return 0
}

RC=0
: >"$OUT/attack.txt"
serve "$SERVER_FD_LIMIT" "$OUT/attack-server.log"
attack --attacker-addresses 100 "$@"
SIGNALFIRE_OWNER_USER=owner SIGNALFIRE_OWNER_PASSWORD=$PASSWORD attack --login-flood 360 --duration 30
stop "$OUT/attack-server.log"

# The memory figure needs 6,000 connections: the server at its hard limit.
HARD=$(ulimit -Hn)
serve "$HARD" "$OUT/attack-server-memory.log"
attack --slow-body 0 --never-reading 6000 --attacker-addresses 100 --duration 30 \
  --after-seconds 60 --rss-goal-mib 256
stop "$OUT/attack-server-memory.log"

# Sibling attacks (bench/attack-*.sh) run here, each on its own server, their figures after these.
for sibling in bench/attack-*.sh; do
  [ -x "$sibling" ] || continue
  echo "== $sibling" | tee -a "$OUT/attack.txt"
  set +e
  SIGNALFIRE_BIN=$BIN "$sibling" | tee -a "$OUT/attack.txt"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -gt "$RC" ] && RC=$rc
done
exit "$RC"
