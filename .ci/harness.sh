#!/usr/bin/env bash
# Sourced by validate.sh and schemathesis.sh: a temporary work folder removed on exit with
# every process listed in `pids`, `free_port`, and a local fake site that is up
# ($up_port, serving "Social Photo Talk"); $app_port is free for signalfire.
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up_port=$(free_port); app_port=$(free_port)
mkdir -p "$work/site" && echo "<h1>Social Photo Talk</h1>" > "$work/site/index.html"
python3 -m http.server "$up_port" --bind 127.0.0.1 --directory "$work/site" >/dev/null 2>&1 &
pids+=($!)
