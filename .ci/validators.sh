#!/usr/bin/env bash
# check_html FILE… and check_feed FILE…: the shared validators (../shared/tools) when this
# checkout sits beside them, else the same validators installed here (Nu Html Checker from npm,
# feedparser from PyPI), so CI on a bare machine runs the same checks.
TOOLS_DIR=${SIGNALFIRE_SHARED_TOOLS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/tools}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/signalfire-ci

check_html() {
  if [ -x "$TOOLS_DIR/check-html" ]; then "$TOOLS_DIR/check-html" "$@"; return; fi
  local jar="$CACHE/node_modules/vnu-jar/build/dist/vnu.jar"
  if [ ! -f "$jar" ]; then
    mkdir -p "$CACHE" && (cd "$CACHE" && npm install --silent --no-audit --no-fund vnu-jar >&2)
  fi
  java -jar "$jar" --errors-only --format gnu "$@"
}

check_feed() {
  if [ -x "$TOOLS_DIR/check-feed" ]; then "$TOOLS_DIR/check-feed" "$@"; return; fi
  if ! "$CACHE/venv/bin/python" -c "import feedparser" 2>/dev/null; then
    mkdir -p "$CACHE" && python3 -m venv "$CACHE/venv" && "$CACHE/venv/bin/pip" install -q feedparser >&2
  fi
  "$CACHE/venv/bin/python" - "$@" <<'PY'
import sys, feedparser
bad = 0
for src in sys.argv[1:]:
    d = feedparser.parse(src)
    problems = []
    if d.bozo:
        problems.append(f"parse error: {d.bozo_exception}")
    if not d.version:
        problems.append("not recognised as RSS or Atom")
    if not d.entries:
        problems.append("no entries")
    ids = [e.get("id") for e in d.entries]
    if any(i is None for i in ids) or len(set(ids)) != len(ids):
        problems.append("missing or duplicate entry ids")
    if any(not (e.get("published_parsed") or e.get("updated_parsed")) for e in d.entries):
        problems.append("entry without a date")
    if any(not e.get("link") for e in d.entries):
        problems.append("entry without a link")
    print(f"{'ok' if not problems else 'FAIL'} {src}: {d.version or '?'}, {len(d.entries)} entries")
    for p in problems:
        print(f"  - {p}")
    bad += bool(problems)
sys.exit(1 if bad else 0)
PY
}

# check_json_feed JSON ATOM [JSON ATOM…]: each JSON Feed reads as JSON Feed 1.1 without error
# (feedparser-rs, as the released feedparser cannot read JSON Feed) and holds the same items,
# with the same ids, as the Atom feed beside it.
check_json_feed() {
  if ! "$CACHE/venv/bin/python" -c "import feedparser_rs" 2>/dev/null; then
    mkdir -p "$CACHE"
    [ -x "$CACHE/venv/bin/python" ] || python3 -m venv "$CACHE/venv"
    "$CACHE/venv/bin/pip" install -q feedparser-rs >&2
  fi
  "$CACHE/venv/bin/python" - "$@" <<'PY'
import sys, feedparser_rs
bad = 0
args = sys.argv[1:]
for json_path, atom_path in zip(args[::2], args[1::2]):
    j = feedparser_rs.parse(open(json_path, "rb").read())
    a = feedparser_rs.parse(open(atom_path, "rb").read())
    problems = []
    if j.version != "json11":
        problems.append(f"read as {j.version!r}, not json11")
    if j.bozo:
        problems.append(f"parse error: {j.get('bozo_exception')}")
    ids = [e.get("id") for e in j.entries]
    atom_ids = [e.get("id") for e in a.entries]
    if ids != atom_ids:
        problems.append(f"{len(ids)} items, Atom has {len(atom_ids)}, or their ids differ")
    print(f"{'ok' if not problems else 'FAIL'} {json_path}: {j.version}, {len(ids)} items, the same as {atom_path}")
    for p in problems:
        print(f"  - {p}")
    bad += bool(problems)
sys.exit(1 if bad else 0)
PY
}

# check_ics FILE…: each calendar reads with Python's icalendar (a second reader beside the
# crate the tests use) and every event has the properties calendar apps rely on.
check_ics() {
  if ! "$CACHE/venv/bin/python" -c "import icalendar" 2>/dev/null; then
    mkdir -p "$CACHE"
    [ -x "$CACHE/venv/bin/python" ] || python3 -m venv "$CACHE/venv"
    "$CACHE/venv/bin/pip" install -q icalendar >&2
  fi
  "$CACHE/venv/bin/python" - "$@" <<'PY'
import sys, icalendar
bad = 0
for path in sys.argv[1:]:
    problems = []
    try:
        cal = icalendar.Calendar.from_ical(open(path, "rb").read())
        events = list(cal.walk("VEVENT"))
        for key in ("PRODID", "VERSION", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
            if key not in cal:
                problems.append(f"no {key}")
        for e in events:
            for key in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "STATUS", "URL"):
                if key not in e:
                    problems.append(f"{e.get('UID')}: no {key}")
            if e.decoded("DTSTART").utcoffset().total_seconds() != 0:
                problems.append(f"{e.get('UID')}: DTSTART not in UTC")
    except Exception as error:  # any parse error is a failure
        events, problems = [], [f"parse error: {error}"]
    print(f"{'ok' if not problems else 'FAIL'} {path}: {len(events)} events")
    for p in problems:
        print(f"  - {p}")
    bad += bool(problems)
sys.exit(1 if bad else 0)
PY
}
