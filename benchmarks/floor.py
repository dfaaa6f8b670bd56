"""How low can a remembered pass-through go? Stripped-down variants of the ASGI hit path.

Run it from the repository root::

    .venv/bin/python benchmarks/floor.py

The issue's target is a pass-through that adds at most twice what Starlette's
``HTTPSRedirectMiddleware`` adds. This script measures, in one interleaved run, the real
middleware on a repeated URL against variants that each leave out more of its work, so that
what is left over is the cost of the work itself and not of how it is written:

* ``minimal``: the contract's Host scan (every header, since two Host headers get 400), the
  memory's key and one dict lookup; no reload check, no trusted-proxy check.
* ``no Host scan``: ``minimal`` keyed without the Host header. Not correct (a second Host
  header would get a remembered answer); measured to show what the scan costs.
* ``plain call``: ``minimal`` as a plain method that returns the app's awaitable instead of
  awaiting it in a coroutine of its own. Not shippable: servers tell ASGI 3 apps from ASGI 2
  ones by ``iscoroutinefunction(app.__call__)``, which Python 3.10 and 3.11's ``inspect``
  answers False for it (hypercorn would then call it the ASGI 2 way).

None of the variants is used by redirectware; nothing here asserts a time.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path
from typing import Any

from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware

from redirectware import RedirectMiddleware, RuleSet
from redirectware.asgi import ASGIApp, Receive, Scope, Send
from redirectware.engine.decision import PASS, Decision

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # the suite's requests, apps and timer


class _Variant:
    def __init__(self, app: ASGIApp, ruleset: RuleSet) -> None:
        self.app = app
        self.get: Callable[[Hashable], Decision | None] = ruleset.answers.get


class Minimal(_Variant):
    """The Host scan, the key, one lookup."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value if host is None else host + b"," + value
        key = (scope["method"], scope["scheme"], host, scope["raw_path"], scope["query_string"])
        if self.get(key) is not PASS:
            raise AssertionError("the floor is measured on a remembered pass-through only")
        await self.app(scope, receive, send)


class NoHostScan(_Variant):
    """``Minimal`` without the Host scan (incorrect: measured only)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = (scope["method"], scope["scheme"], scope["raw_path"], scope["query_string"])
        if self.get(key) is not PASS:
            raise AssertionError("the floor is measured on a remembered pass-through only")
        await self.app(scope, receive, send)


class PlainCall(_Variant):
    """``Minimal`` without a coroutine of its own (not shippable: see the module docstring)."""

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        host: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value if host is None else host + b"," + value
        key = (scope["method"], scope["scheme"], host, scope["raw_path"], scope["query_string"])
        if self.get(key) is PASS:
            return self.app(scope, receive, send)
        raise AssertionError("the floor is measured on a remembered pass-through only")


def main() -> int:
    """Print each variant's added cost and its ratio to Starlette's."""
    folder = Path(tempfile.mkdtemp(prefix="redirectware-floor-"))
    ruleset = RuleSet.from_dict(bench.site_document(folder, 1_000))
    scope = bench.asgi_scope(bench.PASS_PATH)
    real = RedirectMiddleware(bench.bare_asgi, rules=ruleset)
    # One request through the real middleware puts the pass-through in the memory; the
    # variants share that memory, so they measure the hit path alone.
    bench.asgi_batch(real, scope)(1)
    variants: dict[str, Any] = {
        "bare app": bench.bare_asgi,
        "Starlette HTTPSRedirectMiddleware": HTTPSRedirectMiddleware(bench.bare_asgi),
        "redirectware RedirectMiddleware": real,
        "minimal": Minimal(bench.bare_asgi, ruleset),
        "no Host scan (incorrect)": NoHostScan(bench.bare_asgi, ruleset),
        "plain call (not shippable)": PlainCall(bench.bare_asgi, ruleset),
    }
    # The no-scan variant's key is not the adapter's: remember the answer under it too.
    ruleset.answers.store(
        (scope["method"], scope["scheme"], scope["raw_path"], scope["query_string"]), PASS
    )
    timer = bench.Timer(quick="--quick" in sys.argv, sample_seconds=0.05, samples=9)
    times = timer.interleaved(
        {name: bench.asgi_batch(app, scope) for name, app in variants.items()}
    )
    bare = times["bare app"]
    starlette = times["Starlette HTTPSRedirectMiddleware"] - bare
    print("| variant | ns per request | added | added / Starlette's |")
    print("| --- | ---: | ---: | ---: |")
    for name, took in times.items():
        added = took - bare
        print(f"| {name} | {took:,.0f} | {added:,.0f} | {added / starlette:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
