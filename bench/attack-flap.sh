#!/usr/bin/env bash
# A flapping monitor, 127.0.0.1 only. Checks the acceptance line:
#   "a flapping monitor (down/up every 20 s for 30 min) sends each subscriber at most 6 mails"
#
#   bench/attack-flap.sh              build the example (debug is enough: the clock is simulated)
#   bench/attack-flap.sh 100          with 100 confirmed subscribers (default 3)
#
# Runs examples/bench_flap.rs: the library in-process on a manual clock, 30 simulated minutes
# of a site answering 503 for 20 s and 200 for 20 s, mail to a local SMTP sink that counts
# every recipient. Prints
#   flapping 30 min: max mails per subscriber N (goal <= 6), owner M, incidents K
# (also to bench/out/attack-flap.txt). Exit status: 0 PASS, 1 FAIL, 2 could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
if ! cargo build --quiet --example bench_flap; then
  echo "attack-flap: could not build examples/bench_flap.rs" >&2
  exit 2
fi
line=$(target/debug/examples/bench_flap "${1:-3}") || { echo "attack-flap: the run failed" >&2; exit 2; }
echo "$line" | tee "$OUT/attack-flap.txt"
n=$(echo "$line" | sed -n 's/.*max mails per subscriber \([0-9]*\).*/\1/p')
incidents=$(echo "$line" | sed -n 's/.*incidents \([0-9]*\).*/\1/p')
if [ -n "$n" ] && [ "$n" -le 6 ] && [ "$incidents" = 1 ]; then
  echo "PASS" | tee -a "$OUT/attack-flap.txt"
else
  echo "FAIL" | tee -a "$OUT/attack-flap.txt"
  exit 1
fi
