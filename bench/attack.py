#!/usr/bin/env python3
"""Connection-exhaustion attack on a running signalfire, 127.0.0.1 only (stdlib, Python 3.11).

Checks the acceptance line: "With the process limited to 1,024 open files, 1,100 slow-body and
200 never-reading clients at once leave `/` and `/healthz` answering within 1 s throughout."

  slow-body      connect, send a `POST /admin/login` head with `Content-Length: 1000`, then one
                 body byte a second; reopen whenever the server closes or answers.
  never-reading  connect, keep sending pipelined `GET /` and never read, so the server's send
                 buffer fills; reopen whenever the server closes.
  prober         (a separate process, so the attackers' event loop cannot delay it) every 200 ms
                 a fresh-connection `GET /` and `GET /healthz`, each with a 5 s client timeout,
                 for the whole attack; the attack goes on until the last probe is finished.

Prints per-path probe figures, the attacker's connection counts, the server's RSS and open fds
(from /proc/PID) and a one-line verdict: PASS when every probe answered 200 within 1 s.
Exit status: 0 PASS, 1 FAIL, 2 could not run. Usually started by bench/attack.sh.
"""

import argparse
import asyncio
import errno
import math
import multiprocessing
import os
import random
import resource
import select
import socket
import struct
import sys
import time

HOST = "127.0.0.1"
RAMP_SECONDS = 1.0  # attackers start spread over this much time
CONNECT_TIMEOUT = 5.0  # an attacker's connect attempt gives up after this
RETRY_PAUSE = 0.5  # an attacker waits this long after a failed connect
SAMPLE_EVERY = 1.0
AFTER_SECONDS = 3.0  # the server's fds are looked at again this long after the attack
TIMELINE_STEP = 5  # seconds per timeline row


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True, help="the server's port on 127.0.0.1")
    p.add_argument("--pid", type=int, help="the server's PID, for RSS and open fds")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of attack (default 60)")
    p.add_argument("--slow-body", type=int, default=1100, help="slow-body clients (default 1100)")
    p.add_argument("--never-reading", type=int, default=200, help="never-reading clients (default 200)")
    p.add_argument("--probe-interval", type=float, default=0.2, help="seconds between probes (default 0.2)")
    p.add_argument("--probe-timeout", type=float, default=5.0, help="client timeout of a probe (default 5)")
    p.add_argument("--deadline", type=float, default=1.0, help="a probe must answer within this (default 1)")
    p.add_argument("--after-seconds", type=float, default=3.0,
                   help="the server's RSS and fds are looked at again this long after the attack "
                        "(default 3)")
    p.add_argument("--rss-goal-mib", type=float,
                   help="also judge the server's RSS: its peak under this, and back within 2x of "
                        "the start --after-seconds after the attack")
    p.add_argument("--login-flood", type=int, metavar="ADDRESSES",
                   help="instead: failed logins from this many addresses, 5 a minute each, while "
                        "the owner (password in $SIGNALFIRE_OWNER_PASSWORD, user 'admin' or "
                        "$SIGNALFIRE_OWNER_USER) logs in from a known device every second")
    p.add_argument("--attacker-addresses", type=int, default=1,
                   help="attackers connect from this many loopback addresses, 127.0.0.2 and up "
                        "(default 1: one client, as the acceptance line has it); the prober "
                        "connects from 127.0.0.1")
    return p.parse_args()


# ---- helpers ---------------------------------------------------------------------------------

def raise_fd_limit(need):
    """Raises this process's soft open-file limit to the hard limit; returns (soft, note)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(need, 1 << 16)
    note = ""
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as e:
            note = f"could not raise it to {target}: {e}"
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < need:
        note = (note + "; " if note else "") + (
            f"only {soft} fds (hard limit {hard}), the attack needs about {need}: "
            "it cannot reach full pressure")
    return soft, note


def proc_figures(pid):
    """(RSS in KiB, open fds) of the server, or None when it is gone."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return rss, fds
    except (FileNotFoundError, ProcessLookupError, PermissionError, StopIteration):
        return None


def proc_fd_limit(pid):
    try:
        with open(f"/proc/{pid}/limits") as f:
            for line in f:
                if line.startswith("Max open files"):
                    return line.split()[3]
    except OSError:
        pass
    return "?"


def kind_of(exc):
    """Short name for why a connection failed."""
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
                        asyncio.IncompleteReadError)):
        return "reset"
    if isinstance(exc, OSError) and exc.errno:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    return type(exc).__name__


def quantile(sorted_values, q):
    """Nearest-rank quantile of a sorted list."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


def ms(seconds):
    return "n/a" if seconds != seconds else f"{seconds * 1000:.1f} ms"


def counts(d):
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "none"


# ---- the prober (its own process) --------------------------------------------------------------

async def probe_once(port, path, timeout):
    """One fresh-connection GET; returns (latency or None, outcome). Outcome "200" is a success."""
    start = time.monotonic()
    writer = None
    stage = "connect"
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port)
            stage = "answer"
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                         "User-Agent: signalfire-attack-probe\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            status_line = await reader.readline()
            if not status_line:
                return None, "reset"  # closed before any answer
            parts = status_line.split()
            status = parts[1].decode() if len(parts) > 1 else "bad-status-line"
            length = None
            while True:
                line = await reader.readline()
                if not line:
                    raise asyncio.IncompleteReadError(b"", None)
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length is not None:
                await reader.readexactly(length)
            else:
                await reader.read()  # Connection: close, so the body ends at EOF
            return time.monotonic() - start, status
    except Exception as e:  # noqa: BLE001 - every failure is a figure
        kind = kind_of(e)
        return None, f"timeout ({stage})" if kind == "timeout" else kind
    finally:
        if writer is not None:
            writer.transport.abort()


async def probe_loop(port, t0, duration, interval, timeout):
    results = []  # (path, offset from t0, latency or None, outcome)

    async def one(path, offset):
        latency, outcome = await probe_once(port, path, timeout)
        results.append((path, offset, latency, outcome))

    tasks = []
    n = 0
    while True:
        at = t0 + n * interval
        if at - t0 >= duration:
            break
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        for path in ("/", "/healthz"):
            tasks.append(asyncio.create_task(one(path, at - t0)))
        n += 1
    await asyncio.gather(*tasks)
    return results


def prober_main(conn, port, t0, duration, interval, timeout):
    try:
        conn.send(("ok", asyncio.run(probe_loop(port, t0, duration, interval, timeout))))
    except BaseException as e:  # noqa: BLE001 - report, never hang the parent
        conn.send(("error", repr(e)))
    finally:
        conn.close()


# ---- the attackers -----------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.open = {"slow-body": 0, "never-reading": 0}
        self.opened = {"slow-body": 0, "never-reading": 0}
        self.closed_by_server = {"slow-body": {}, "never-reading": {}}
        self.connect_failures = {"slow-body": {}, "never-reading": {}}
        self.samples = []  # (offset, slow open, never open, (rss, fds) or None, loop lag)

    @staticmethod
    def bump(d, key):
        d[key] = d.get(key, 0) + 1


async def sleep_unless(stop, seconds):
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


def attacker_source(i, n):
    """The loopback address attacker `i` connects from: one of n, never the prober's."""
    k = 2 + i % max(1, n)
    return f"127.0.{k // 256}.{k % 256}"


async def slow_body_client(port, st, stop, source):
    head = (f"POST /admin/login HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            "User-Agent: signalfire-attack\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n").encode()
    await sleep_unless(stop, random.uniform(0, RAMP_SECONDS))
    while not stop.is_set():
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port, limit=4096,
                                                                            local_addr=(source, 0)),
                                                    CONNECT_TIMEOUT)
        except Exception as e:  # noqa: BLE001
            st.bump(st.connect_failures["slow-body"], kind_of(e))
            await sleep_unless(stop, RETRY_PAUSE)
            continue
        st.open["slow-body"] += 1
        st.opened["slow-body"] += 1
        answer = asyncio.ensure_future(reader.read(4096))
        try:
            writer.write(head)
            sent = 0
            while not stop.is_set():
                await asyncio.wait({answer}, timeout=1.0)
                if answer.done():
                    # The server answered or closed before the body was complete: it gave up on us.
                    try:
                        data = answer.result()
                        if not data:
                            kind = "closed (EOF)"
                        elif data.startswith(b"HTTP/1."):
                            kind = "answered " + data.split()[1].decode(errors="replace")
                        else:
                            kind = "sent data"
                    except Exception as e:  # noqa: BLE001
                        kind = kind_of(e)
                    st.bump(st.closed_by_server["slow-body"], kind)
                    break
                if stop.is_set():
                    break
                if sent < 1000 and not writer.transport.is_closing():
                    writer.write(b"a")
                    sent += 1
        finally:
            answer.cancel()
            writer.transport.abort()
            st.open["slow-body"] -= 1


async def never_reading_client(port, st, stop, source):
    request = (f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
               "User-Agent: signalfire-attack\r\n\r\n").encode()
    blob = request * 64
    loop = asyncio.get_running_loop()
    await sleep_unless(stop, random.uniform(0, RAMP_SECONDS))
    while not stop.is_set():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((source, 0))
        # Small buffers on our side: the server's send buffer fills sooner and kernel memory stays
        # bounded (200 connections).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        try:
            await asyncio.wait_for(loop.sock_connect(s, (HOST, port)), CONNECT_TIMEOUT)
        except Exception as e:  # noqa: BLE001
            s.close()
            st.bump(st.connect_failures["never-reading"], kind_of(e))
            await sleep_unless(stop, RETRY_PAUSE)
            continue
        st.open["never-reading"] += 1
        st.opened["never-reading"] += 1
        poller = select.poll()
        poller.register(s.fileno(), select.POLLRDHUP | select.POLLERR | select.POLLHUP)
        offset = 0  # position in the endless stream of pipelined requests
        try:
            while not stop.is_set():
                kind = None
                try:
                    for _ in range(64):  # as much as the kernel takes, bounded per tick
                        n = s.send(blob[offset:])
                        offset = (offset + n) % len(request)
                except BlockingIOError:
                    pass  # our send buffer is full: the server stopped reading, as intended
                except OSError as e:
                    kind = kind_of(e)
                if kind is None:
                    events = poller.poll(0)
                    if events:
                        ev = events[0][1]
                        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if ev & select.POLLERR or err:
                            kind = "reset" if err in (0, errno.ECONNRESET, errno.EPIPE) else \
                                errno.errorcode.get(err, str(err))
                        else:
                            kind = "closed (EOF)"
                if kind is not None:
                    st.bump(st.closed_by_server["never-reading"], kind)
                    break
                await sleep_unless(stop, 1.0)
        finally:
            # RST rather than FIN: nothing lingers on our side after the attack.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            st.open["never-reading"] -= 1


async def attack(args, t0, conn):
    st = Stats()
    stop = asyncio.Event()
    while time.monotonic() < t0:
        await asyncio.sleep(0.01)
    n = args.attacker_addresses
    workers = [asyncio.create_task(slow_body_client(args.port, st, stop, attacker_source(i, n)))
               for i in range(args.slow_body)]
    workers += [asyncio.create_task(never_reading_client(args.port, st, stop, attacker_source(i, n)))
                for i in range(args.never_reading)]
    probe_deadline = t0 + args.duration + args.probe_timeout + 10
    probes = None
    n = 0
    while True:
        n += 1
        before = time.monotonic()
        await asyncio.sleep(max(0.0, t0 + n * SAMPLE_EVERY - before))
        now = time.monotonic()
        lag = max(0.0, now - (t0 + n * SAMPLE_EVERY))
        st.samples.append((now - t0, st.open["slow-body"], st.open["never-reading"],
                           proc_figures(args.pid), lag))
        if conn.poll():
            probes = conn.recv()
            break
        if now > probe_deadline:
            probes = ("error", "the prober did not report in time")
            break
    end = (st.open["slow-body"], st.open["never-reading"], proc_figures(args.pid), time.monotonic() - t0)
    stop.set()
    _, pending = await asyncio.wait(workers, timeout=5)
    for w in pending:
        w.cancel()
    after = None
    waited_until = time.monotonic() + args.after_seconds
    while time.monotonic() < waited_until:
        await asyncio.sleep(min(1.0, max(0.0, waited_until - time.monotonic())))
    after = proc_figures(args.pid)
    return st, probes, end, after


# ---- report ------------------------------------------------------------------------------------

def report(args, fd_soft, fd_note, start, st, probes, end, after):
    p = print
    samples = st.samples
    p(f"   attacker fd limit: {fd_soft}" + (f"  ({fd_note})" if fd_note else " (enough)"))
    status, results = probes
    if status != "ok":
        p(f"   the prober failed: {results}")
        results = []

    bad_total = 0
    for path in ("/", "/healthz"):
        rows = [r for r in results if r[0] == path]
        answered = sorted(r[2] for r in rows if r[2] is not None)
        ok = [r for r in rows if r[3] == "200" and r[2] is not None and r[2] <= args.deadline]
        failures = {}
        for r in rows:
            if r[2] is None:
                Stats.bump(failures, r[3])
            elif r[3] != "200":
                Stats.bump(failures, f"status {r[3]}")
        over = sum(1 for r in rows if r[2] is not None and r[2] > args.deadline)
        bad_total += len(rows) - len(ok)
        p(f"   GET {path:<8} probes {len(rows)}: 200 within {args.deadline:g} s {len(ok)}; "
          f"failures {sum(failures.values())} ({counts(failures)}); answered but over "
          f"{args.deadline:g} s {over}")
        p(f"   {'':12} latency of the {len(answered)} answered: p50 {ms(quantile(answered, 0.5))}, "
          f"p99 {ms(quantile(answered, 0.99))}, max {ms(answered[-1] if answered else float('nan'))}")

    during = [s for s in samples if RAMP_SECONDS + 1 <= s[0] <= args.duration] or samples
    for cls, idx, target in (("slow-body", 1, args.slow_body), ("never-reading", 2, args.never_reading)):
        avg = sum(s[idx] for s in during) / len(during) if during else float("nan")
        low = min((s[idx] for s in during), default=0)
        p(f"   {cls:<13} clients: target {target}, open (client side) avg {avg:.1f}, min {low}, "
          f"at the end {end[0] if idx == 1 else end[1]}; connections opened {st.opened[cls]}")
        p(f"   {'':13} closed by the server {sum(st.closed_by_server[cls].values())} "
          f"({counts(st.closed_by_server[cls])}); failed connects "
          f"{sum(st.connect_failures[cls].values())} ({counts(st.connect_failures[cls])})")

    if any(st.connect_failures[c].get("timeout") for c in st.connect_failures):
        p("   (an attacker connect that times out was dropped by the server's full listen queue; "
          f"that client tries again {RETRY_PAUSE:g} s later, so every client is connected or "
          "connecting throughout)")
    figs = [s[3] for s in samples if s[3] is not None]
    def fig(f, i, unit):
        if f is None:
            return "gone"
        return f"{f[i] / 1024:.1f} MiB" if unit == "rss" else str(f[i])
    if args.pid is not None:
        gone = any(s[3] is None for s in samples) or end[2] is None
        peak = (max(f[0] for f in figs), max(f[1] for f in figs)) if figs else None
        p(f"   server RSS: start {fig(start, 0, 'rss')}, peak {fig(peak, 0, 'rss')}, "
          f"end {fig(end[2], 0, 'rss')}, {args.after_seconds:g} s after {fig(after, 0, 'rss')}")
        p(f"   server open fds (limit {proc_fd_limit(args.pid) if after else '?'}): start {fig(start, 1, '')}, "
          f"peak {fig(peak, 1, '')}, end {fig(end[2], 1, '')}, {args.after_seconds:g} s after {fig(after, 1, '')}"
          + ("   THE SERVER EXITED DURING THE ATTACK" if gone else ""))
    max_lag = max((s[4] for s in samples), default=0.0)
    p(f"   attacker event-loop lag: max {max_lag * 1000:.0f} ms (the prober runs in its own process); "
      f"attack lasted {end[3]:.1f} s")

    p(f"   timeline (per {TIMELINE_STEP} s: probes sent / 200 within {args.deadline:g} s; "
      "client-side open slow+never; server fds at the step's end):")
    for a in range(0, int(math.ceil(args.duration)), TIMELINE_STEP):
        b = a + TIMELINE_STEP
        rows = [r for r in results if a <= r[1] < b]
        good = sum(1 for r in rows if r[3] == "200" and r[2] is not None and r[2] <= args.deadline)
        last = [s for s in samples if s[0] <= b + 0.5]
        s = last[-1] if last else None
        p(f"     {a:>4}-{b:<4}s  {len(rows):>3} / {good:<3}  open {s[1] if s else '-'}+{s[2] if s else '-'}"
          f"  fds {s[3][1] if s and s[3] else '-'}")

    total = len(results)
    passed = total > 0 and bad_total == 0 and status == "ok"
    # Every client is connected or trying to connect for the whole attack, by construction. Fewer
    # open than the target because connects time out or are refused means the server took no
    # more: the pressure is held. It is not when the attacker itself ran short (its fd limit, its
    # ports, its memory) or its event loop stalled.
    server_side = {"timeout", "refused", "reset"}
    own = {k: v for cls in st.connect_failures.values() for k, v in cls.items() if k not in server_side}
    weak = []
    if fd_note:
        weak.append("the attacker's fd limit")
    if own:
        weak.append(f"the attacker's own connect errors ({counts(own)})")
    if max_lag > 1.0:
        weak.append(f"the attacker's event loop stalled {max_lag:.1f} s")
    note = f" (the attack did not hold full pressure: {'; '.join(weak)})" if weak else ""
    where = f"{args.slow_body + args.never_reading} clients from {args.attacker_addresses} addresses"
    p(f"FIGURE: / and /healthz answer 200 within {args.deadline:g} s during the attack ({where}): "
      f"{total - bad_total} of {total} probes (goal: all): {'met' if passed else 'NOT met'}")
    if args.rss_goal_mib is not None and args.pid is not None:
        peak_mib = max((f[0] for f in figs), default=0) / 1024
        start_mib = start[0] / 1024 if start else float("nan")
        after_mib = after[0] / 1024 if after else float("nan")
        peak_ok = bool(figs) and peak_mib < args.rss_goal_mib
        back_ok = after is not None and start is not None and after_mib <= 2 * start_mib
        p(f"FIGURE: server RSS peak during the attack ({where}): {peak_mib:.1f} MiB "
          f"(goal: under {args.rss_goal_mib:g} MiB): {'met' if peak_ok else 'NOT met'}")
        p(f"FIGURE: server RSS {args.after_seconds:g} s after the attack: {after_mib:.1f} MiB, start "
          f"{start_mib:.1f} MiB (goal: within 2x of the start): {'met' if back_ok else 'NOT met'}")
        passed = passed and peak_ok and back_ok
    if passed:
        p(f"VERDICT: PASS: all {total} probes answered 200 within {args.deadline:g} s{note}")
    else:
        p(f"VERDICT: FAIL: {bad_total} of {total} probes did not answer 200 within {args.deadline:g} s"
          f" or a figure was not met{note}")
    return passed


# ---- the login flood ---------------------------------------------------------------------------

async def http(port, method, path, headers=(), body=b"", source=HOST, timeout=10.0):
    """One request on a fresh connection from `source`: (status, [(name, value)], seconds)."""
    start = time.monotonic()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port, local_addr=(source, 0))
            head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers)
            if body:
                head += f"Content-Length: {len(body)}\r\n"
            writer.write(head.encode() + b"\r\n" + body)
            await writer.drain()
            answer = await reader.read()
    except Exception as e:  # noqa: BLE001 - every failure is a figure
        return kind_of(e), [], time.monotonic() - start
    finally:
        if writer is not None:
            writer.transport.abort()
    head = answer.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
    parts = head[0].split()
    status = parts[1] if len(parts) > 1 else "bad-status-line"
    fields = [tuple(x.strip() for x in line.split(":", 1)) for line in head[1:] if ":" in line]
    return status, fields, time.monotonic() - start


def cookie_of(fields, name):
    for k, v in fields:
        if k.lower() == "set-cookie" and v.startswith(name + "="):
            value = v.split(";", 1)[0].split("=", 1)[1]
            if value:
                return value
    return None


async def login_flood(args):
    import re
    import urllib.parse
    user = os.environ.get("SIGNALFIRE_OWNER_USER", "admin")
    password = os.environ.get("SIGNALFIRE_OWNER_PASSWORD")
    if not password:
        print("attack.py: --login-flood needs SIGNALFIRE_OWNER_PASSWORD", file=sys.stderr)
        return 2
    # The login form: its cookie and the token the form repeats.
    reader, writer = await asyncio.open_connection(HOST, args.port)
    writer.write(f"GET /admin/login HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
    page = await reader.read()
    writer.close()
    login_cookie = re.search(rb"signalfire_login=([^;\r]+)", page).group(1).decode()
    csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()

    def form(pw):
        return urllib.parse.urlencode({"csrf": csrf, "username": user, "password": pw}).encode()

    form_headers = [("Content-Type", "application/x-www-form-urlencoded")]
    status, fields, _ = await http(args.port, "POST", "/admin/login",
                                   form_headers + [("Cookie", f"signalfire_login={login_cookie}")],
                                   form(password))
    device = cookie_of(fields, "signalfire_device")
    if status != "303" or not device:
        print(f"attack.py: the owner's first login failed ({status}, device cookie {bool(device)})",
              file=sys.stderr)
        return 2
    n = args.login_flood
    rate = n * 5 / 60  # attempts a second: 5 a minute per address
    strangers, owner = {}, []
    stop_at = time.monotonic() + args.duration
    print(f"== login flood: {n} addresses x 5 failed logins a minute ({rate:.0f}/s) for "
          f"{args.duration:g} s; the owner logs in from a known device every second", flush=True)

    async def stranger(i):
        status, _, _ = await http(args.port, "POST", "/admin/login",
                                  form_headers + [("Cookie", f"signalfire_login={login_cookie}")],
                                  form("wrong"), source=attacker_source(i, n), timeout=30)
        Stats.bump(strangers, status)

    async def the_owner():
        status, fields, seconds = await http(
            args.port, "POST", "/admin/login",
            form_headers + [("Cookie", f"signalfire_login={login_cookie}; signalfire_device={device}")],
            form(password), timeout=60)
        owner.append((status, seconds))

    tasks = []
    t0 = time.monotonic()
    i = 0
    next_owner = t0 + 1.0
    while time.monotonic() < stop_at:
        now = time.monotonic()
        while t0 + i / rate <= now:
            tasks.append(asyncio.create_task(stranger(i)))
            i += 1
        if now >= next_owner:
            tasks.append(asyncio.create_task(the_owner()))
            next_owner += 1.0
        await asyncio.sleep(0.01)
    await asyncio.gather(*tasks)
    times = sorted(s for _, s in owner)
    ok = [s for st, s in owner if st == "303"]
    print(f"   strangers' attempts {i}: {counts(strangers)}")
    print(f"   the owner's logins {len(owner)}: {counts({st: sum(1 for x, _ in owner if x == st) for st, _ in owner})}; "
          f"latency p50 {ms(quantile(times, 0.5))}, max {ms(times[-1] if times else float('nan'))}")
    met = len(ok) == len(owner) > 0 and max(times) < 1.0
    print(f"FIGURE: the owner's login answers in under 1 s during a {n}-address login flood: "
          f"max {ms(times[-1] if times else float('nan'))}, {len(ok)} of {len(owner)} let in "
          f"(goal: all, each under 1 s): {'met' if met else 'NOT met'}")
    print(f"VERDICT: {'PASS' if met else 'FAIL'}: login flood")
    return 0 if met else 1


def main():
    args = parse_args()
    if args.login_flood:
        raise_fd_limit(args.login_flood * 5 + 100)
        return asyncio.run(login_flood(args))
    in_flight_probes = 2 * math.ceil(args.probe_timeout / args.probe_interval)
    need = args.slow_body + args.never_reading + in_flight_probes + 100
    fd_soft, fd_note = raise_fd_limit(need)

    # The server must answer before the attack, else the figures mean nothing.
    for path in ("/healthz", "/"):
        latency, outcome = asyncio.run(probe_once(args.port, path, args.probe_timeout))
        if outcome != "200":
            print(f"attack.py: GET {path} does not answer 200 before the attack ({outcome})", file=sys.stderr)
            return 2
    start = proc_figures(args.pid)
    if args.pid is not None and start is None:
        print(f"attack.py: no process {args.pid} in /proc", file=sys.stderr)
        return 2

    print(f"== attack: {args.slow_body} slow-body + {args.never_reading} never-reading clients for "
          f"{args.duration:g} s on {HOST}:{args.port}; probes every {args.probe_interval * 1000:.0f} ms "
          f"(timeout {args.probe_timeout:g} s)" + (f"; server pid {args.pid}, open-file limit "
                                                   f"{proc_fd_limit(args.pid)}" if args.pid else ""),
          flush=True)
    first, last = attacker_source(0, args.attacker_addresses), \
        attacker_source(args.attacker_addresses - 1, args.attacker_addresses)
    print(f"   attackers connect from {first}" + (f" .. {last}" if last != first else "")
          + f"; the prober from {HOST}", flush=True)
    t0 = time.monotonic() + 0.5
    ctx = multiprocessing.get_context("fork")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    prober = ctx.Process(target=prober_main, daemon=True,
                         args=(child_conn, args.port, t0, args.duration, args.probe_interval, args.probe_timeout))
    prober.start()
    child_conn.close()
    try:
        st, probes, end, after = asyncio.run(attack(args, t0, parent_conn))
    finally:
        prober.join(timeout=2)
        if prober.is_alive():
            prober.kill()
    return 0 if report(args, fd_soft, fd_note, start, st, probes, end, after) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("attack.py: interrupted", file=sys.stderr)
        sys.exit(130)
