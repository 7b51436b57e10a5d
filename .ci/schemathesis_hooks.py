"""Schemathesis hooks for .ci/schemathesis.sh.

The owner API refuses a client for a minute after ten wrong tokens (429), and schemathesis
sends wrong tokens on purpose: from one address it would soon test nothing but the throttle.
The CI server trusts 127.0.0.1 as a proxy, and every request here names a client address of
its own in X-Forwarded-For, as a proxy in front would. The throttle has its own tests.
"""

import itertools

import schemathesis

_clients = itertools.count(1)


@schemathesis.hook
def before_call(ctx, case, kwargs):
    n = next(_clients)
    headers = dict(case.headers or {})
    headers["X-Forwarded-For"] = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    case.headers = headers
