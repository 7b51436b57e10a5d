# Sourced by bench/attack*.sh: a signalfire server on 127.0.0.1 only, on a temporary copy of
# config.example.toml (a free port, a temporary data_dir, monitors pointed at closed ports on
# 127.0.0.1 and the DNS one removed, an admin password hash from `signalfire hash-password`).
#
#   sf_setup NAME             the binary (a release build, or $SIGNALFIRE_BIN), $TMP, $PORT,
#                             $PASSWORD, $HASH and $CONFIG (written, not yet checked); removes
#                             everything on exit
#   sf_start LOG [FD_LIMIT]   starts it (under `ulimit -n FD_LIMIT` if given, the server only),
#                             sets $SERVER_PID, waits until /healthz answers (exit 2 if not in 10 s)
#   sf_stop                   SIGTERM, then SIGKILL after 8 s
# Callers `set -euo pipefail` and `cd` to the repository first.

SERVER_PID=
sf_stop() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # signalfire stops within 5 s on SIGTERM; past 8 s it is killed.
    for _ in $(seq 1 80); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}

sf_cleanup() {
  sf_stop
  [ -n "${TMP:-}" ] && rm -rf "$TMP"
}

sf_setup() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/signalfire-$1.XXXXXX")
  trap sf_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ -n "${SIGNALFIRE_BIN:-}" ]; then
    BIN=$SIGNALFIRE_BIN
  else
    echo "== building (release)"
    cargo build --release --quiet --bin signalfire
    BIN=${CARGO_TARGET_DIR:-target}/release/signalfire
  fi
  [ -x "$BIN" ] || { echo "no executable at $BIN" >&2; exit 2; }
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  HASH=$(printf %s "$PASSWORD" | "$BIN" hash-password)
  CONFIG=$TMP/config.toml
  # The example config, made local: nothing leaves 127.0.0.1 (port 9 is closed).
  python3 - config.example.toml "$CONFIG" "$PORT" "$TMP/data" "$HASH" <<'PY'
import re, sys
src, dst, port, data_dir, hash_ = sys.argv[1:]
text = open(src).read()
head, *monitors = re.split(r"(?m)^(?=\[\[monitor\]\])", text)
last = monitors[-1]
tail_at = re.search(r"(?m)^# ---- Notifications", last)
if tail_at:
    monitors[-1], tail = last[:tail_at.start()], last[tail_at.start():]
else:
    tail = ""
monitors = [m for m in monitors if not re.search(r'(?m)^kind = "dns"', m)]
def local(m):
    if re.search(r'(?m)^id = "status-server"', m):
        return re.sub(r'(?m)^url = ".*"', f'url = "http://127.0.0.1:{port}/healthz"', m)
    m = re.sub(r'(?m)^url = "(https?)://[^/"]+', r'url = "http://127.0.0.1:9', m)
    m = re.sub(r'(?m)^host = ".*"', 'host = "127.0.0.1"', m)
    return re.sub(r'(?m)^port = \d+', 'port = 9', m)
head = re.sub(r'(?m)^listen = ".*"', f'listen = "127.0.0.1:{port}"', head)
head = re.sub(r'(?m)^base_url = ".*"', f'base_url = "http://127.0.0.1:{port}"', head)
head = re.sub(r'(?m)^data_dir = ".*"', f'data_dir = "{data_dir}"', head)
head, n = re.subn(r'(?m)^# password_hash = .*$', f"password_hash = '{hash_}'", head)
assert n == 1, "no password_hash line in config.example.toml"
out = head + "".join(local(m) for m in monitors) + tail
for line in out.splitlines():
    if re.match(r'\s*(url|host|check|resolver)\s*=', line) and "127.0.0.1" not in line:
        sys.exit(f"a monitor would leave 127.0.0.1: {line}")
open(dst, "w").write(out)
PY
}

sf_start() {
  local log=$1 limit=${2:-}
  if [ -n "$limit" ]; then
    # Only the server is limited: the limit is set in its own subshell.
    ( ulimit -n "$limit" && exec "$BIN" --config "$CONFIG" ) 2>"$log" &
  else
    "$BIN" --config "$CONFIG" 2>"$log" &
  fi
  SERVER_PID=$!
  python3 - "$PORT" <<'PY' || { echo "the server did not answer /healthz within 10 s (see $log)" >&2; exit 2; }
import sys, time, urllib.request
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
PY
}
