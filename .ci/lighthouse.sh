#!/usr/bin/env bash
# lighthouse.sh BASE_URL INCIDENT_ID — Lighthouse 12 on the four public-facing pages of a running
# signalfire: /, /incidents/ID, /history and /admin/login. Every category (performance,
# accessibility, best-practices, seo) must score at least 0.95 on every page; prints one line per
# page and, for a category under the bar, the audits that cost it points. Exits 1 on any miss.
#
# Preset: Lighthouse's default, the MOBILE one (emulated phone, simulated slow 4G and 4x CPU
# slowdown), the stricter of the two presets.
#
# robots-txt (SEO) is fetched by Chromium on behalf of the page, so the page's CSP must allow it:
# `connect-src 'self'`; with connect-src falling back to default-src 'none' SEO stays at 0.91.
#
# Installs what it needs when missing: Debian's chromium (apt) and lighthouse@12.2.3 (npm, into
# the same cache folder .ci/validators.sh uses). Lighthouse 13 needs Node 22; 12.2.3 runs on 20.
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 BASE_URL INCIDENT_ID" >&2; exit 2; fi
base=${1%/}
incident=$2
MIN=${LIGHTHOUSE_MIN_SCORE:-0.95}
LH_VERSION=12.2.3
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/signalfire-ci
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}

if [ ! -x "$CHROME_PATH" ]; then
  echo "== installing chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 && apt-get install -y -q chromium >&2
fi
lh="$CACHE/node_modules/lighthouse/cli/index.js"
if [ ! -f "$lh" ] || [ "$(node -p "require('$CACHE/node_modules/lighthouse/package.json').version")" != "$LH_VERSION" ]; then
  echo "== installing lighthouse@$LH_VERSION" >&2
  mkdir -p "$CACHE" && (cd "$CACHE" && npm install --silent --no-audit --no-fund "lighthouse@$LH_VERSION" >&2)
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The page must answer before Lighthouse loads it (no fixed sleeps: poll).
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$base/" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "$base/" || { echo "lighthouse: $base/ does not answer" >&2; exit 1; }

pages=("/" "/incidents/$incident" "/history" "/admin/login")
failed=0
n=0
for path in "${pages[@]}"; do
  n=$((n + 1))
  profile="$out/profile-$n"
  report="$out/report-$n.json"
  flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
  flags+=" --disable-background-networking --disable-component-update --disable-sync"
  flags+=" --user-data-dir=$profile"
  # A crash of Lighthouse or Chromium (not a low score) gets one more try, with a fresh profile.
  ran=0
  for attempt in 1 2; do
    rm -rf "$profile" && mkdir -p "$profile"
    if node "$lh" "$base$path" --quiet --output=json --output-path="$report" \
         --only-categories=performance,accessibility,best-practices,seo \
         --chrome-flags="$flags" >"$out/log-$n.txt" 2>&1; then
      ran=1 && break
    fi
    echo "lighthouse on $path did not finish (attempt $attempt):" >&2
    tail -n 20 "$out/log-$n.txt" >&2
  done
  if [ "$ran" -ne 1 ]; then echo "FAIL $path: lighthouse did not finish"; failed=1; continue; fi
  # One line per page; the audits behind any category under the bar; exit 3 if there is one.
  rc=0
  node - "$report" "$path" "$MIN" <<'JS' || rc=$?
const [report, path, min] = process.argv.slice(2);
const lhr = JSON.parse(require('fs').readFileSync(report, 'utf8'));
const ids = ['performance', 'accessibility', 'best-practices', 'seo'];
if (lhr.runtimeError) {
  console.log(`FAIL ${path}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  process.exit(3);
}
const fmt = (s) => (s === null || s === undefined ? 'n/a' : s.toFixed(2));
const low = ids.filter((id) => !(lhr.categories[id] && lhr.categories[id].score >= Number(min)));
const scores = ids.map((id) => `${id} ${fmt(lhr.categories[id] && lhr.categories[id].score)}`);
console.log(`${low.length ? 'FAIL' : 'ok  '} ${path.padEnd(16)} ${scores.join('  ')}`);
for (const w of lhr.runWarnings || []) console.log(`  warning: ${w}`);
for (const id of low) {
  const cat = lhr.categories[id];
  console.log(`  ${id} ${fmt(cat && cat.score)} < ${min}:`);
  for (const ref of (cat ? cat.auditRefs : [])) {
    const a = lhr.audits[ref.id];
    if (!a || ref.weight === 0 || a.score === null || a.score >= 1) continue;
    const value = a.displayValue ? ` (${a.displayValue})` : '';
    console.log(`    - ${a.id}: ${a.title}${value} [score ${fmt(a.score)}, weight ${ref.weight}]`);
    if (a.explanation) console.log(`      ${a.explanation}`);
  }
}
process.exit(low.length ? 3 : 0);
JS
  [ "$rc" -eq 0 ] || failed=1
done

if [ "$failed" -ne 0 ]; then
  echo "lighthouse: FAILED: a score under $MIN or a run that did not finish (mobile preset)"
  exit 1
fi
echo "lighthouse: all four categories >= $MIN on ${#pages[@]} pages (mobile preset)"
