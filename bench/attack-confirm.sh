#!/usr/bin/env bash
# The confirmation-link flood, 127.0.0.1 only: a subscriber's confirmation link hammered with
# wrk for 20 s, GET and POST alternately (a scanner that follows links, a script that presses
# the button). Before the fix every GET confirmed and wrote a token row kept 400 days (20 s grew
# the database from 4.5 to 42.6 MB); now a GET writes nothing and only the first POST writes.
#
#   bench/attack-confirm.sh                  build (release), then the 20 s flood
#   bench/attack-confirm.sh --duration 10    another length (seconds)
#   SIGNALFIRE_BIN=path/to/signalfire bench/attack-confirm.sh     use that binary, build nothing
#
# The server runs on a temporary copy of config.example.toml (bench/local-server.sh, as for
# bench/attack.sh) with `[subscribers] email = true` and `[smtp]` pointed at a small SMTP sink
# on 127.0.0.1 that keeps the confirmation mail. Prints "confirmation-link flood 20 s: rows
# before N, after M (added K)" — the rows of the tables the link can write (subscribers, their
# components and tokens, deliveries, notifications), counted before the flood (the link not yet
# confirmed) and after it — then every table's rows and the database's size (file and WAL).
# Output also goes to bench/out/attack-confirm.txt, the server's log to
# bench/out/attack-confirm-server.log. Exit status: 0 when the flood added at most 1 row (the
# first POST's manage token), 1 otherwise, 2 when it could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
DURATION=20
if [ "${1:-}" = "--duration" ]; then DURATION=${2:?seconds}; fi
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

# shellcheck source=bench/local-server.sh
. bench/local-server.sh
sf_setup attack-confirm
SINK_PID=
stop_all() { [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; sf_cleanup; }
trap stop_all EXIT

# An SMTP sink that writes each mail to $TMP/mails/N.eml.
SMTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/mails"
python3 - "$SMTP_PORT" "$TMP/mails" <<'PY' &
import itertools, socketserver, sys
port, folder = int(sys.argv[1]), sys.argv[2]
count = itertools.count()
class Session(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 sink ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.strip().upper()
            if verb.startswith(b"EHLO"):
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                with open(f"{folder}/{next(count)}.eml", "wb") as f:
                    f.write(data)
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("127.0.0.1", port), Session).serve_forever()
PY
SINK_PID=$!

cat >>"$CONFIG" <<TOML

[smtp]
host = "127.0.0.1"
port = $SMTP_PORT
tls = "none"
from = "Bench status <status@bench.example>"

[subscribers]
email = true
TOML
"$BIN" check-config --config "$CONFIG" >/dev/null
sf_start "$OUT/attack-confirm-server.log"
echo "== server $("$BIN" --version 2>/dev/null || echo signalfire) (git $(git rev-parse --short HEAD 2>/dev/null || echo '?')), pid $SERVER_PID, 127.0.0.1:$PORT; $(nproc) cores, $(uname -sr)" | tee "$OUT/attack-confirm.txt"

# Sign up, and read the confirmation link out of the mail.
curl -sf -o /dev/null --data-urlencode "email=reader@bench.example" "http://127.0.0.1:$PORT/subscribe"
LINK=$(python3 - "$TMP/mails" <<'PY'
import email, glob, re, sys, time
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    for name in glob.glob(f"{sys.argv[1]}/*.eml"):
        mail = email.message_from_bytes(open(name, "rb").read())
        text = " ".join((p.get_payload(decode=True) or b"").decode("utf-8", "replace")
                        for p in mail.walk() if not p.is_multipart())
        found = re.search(r"(http://[^\s\"<>]+/subscribe/confirm\?token=[0-9a-f]{64})", text)
        if found:
            print(found.group(1))
            sys.exit(0)
    time.sleep(0.1)
sys.exit("no confirmation mail within 30 s")
PY
) || exit 2

DB=$TMP/data/signalfire.db
counts() {
  python3 - "$DB" <<'PY'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
rows = {t: c.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
link = sum(rows.get(t, 0) for t in ("subscribers", "subscriber_components", "subscriber_tokens", "deliveries", "notifications"))
print(link, sum(rows.values()), " ".join(f"{t}={n}" for t, n in rows.items()))
PY
}
size() { du -cb "$DB" "$DB-wal" 2>/dev/null | awk 'END {printf "%.1f MB", $1 / 1e6}'; }

read -r LINK_BEFORE ALL_BEFORE TABLES_BEFORE < <(counts)
SIZE_BEFORE=$(size)
cat >"$TMP/flood.lua" <<'LUA'
-- GET and POST of the same link, alternately.
local n = 0
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, "")
  end
  return wrk.format("GET")
end
LUA
echo "== wrk -t2 -c32 -d${DURATION}s, GET and POST of $LINK" | tee -a "$OUT/attack-confirm.txt"
wrk -t2 -c32 -d"${DURATION}s" -s "$TMP/flood.lua" "$LINK" | tee -a "$OUT/attack-confirm.txt"
kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server is no longer running" | tee -a "$OUT/attack-confirm.txt"; exit 1; }
read -r LINK_AFTER ALL_AFTER TABLES_AFTER < <(counts)
SIZE_AFTER=$(size)
CONFIRMED=$(python3 -c "import sqlite3,sys; c=sqlite3.connect('file:$DB?mode=ro', uri=True); print(c.execute('SELECT count(*) FROM subscribers WHERE confirmed_at IS NOT NULL').fetchone()[0])")
{
  echo "confirmation-link flood ${DURATION} s: rows before $LINK_BEFORE, after $LINK_AFTER (added $((LINK_AFTER - LINK_BEFORE)))"
  echo "   confirmed subscribers after: $CONFIRMED"
  echo "   every table (the monitors' checks write meanwhile): $ALL_BEFORE -> $ALL_AFTER rows"
  echo "     before: $TABLES_BEFORE"
  echo "     after:  $TABLES_AFTER"
  echo "   database (file + WAL): $SIZE_BEFORE before, $SIZE_AFTER after"
} | tee -a "$OUT/attack-confirm.txt"
[ $((LINK_AFTER - LINK_BEFORE)) -le 1 ]
