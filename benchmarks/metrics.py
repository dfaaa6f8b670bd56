"""What do Prometheus counters cost a request? ``metrics=True`` against the same middleware
without, in bench.py's rows.

Run it from the repository root::

    .venv/bin/python benchmarks/metrics.py            # a few seconds per row
    .venv/bin/python benchmarks/metrics.py --quick

Each pair (metrics off, metrics on) is sampled in turn, with bench.py's :class:`Timer`, on
the "site" document of bench.py (100 templates and 1,000 map rows): a fresh pass-through (a
URL never asked before, so the engine answers it afresh, the cost every new URL of the site
pays), a repeated pass-through, and a fresh redirect; ASGI and WSGI. Printed: ns per request
off and on, and the difference in ns and per cent. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench import (
    PASS_PATH,
    Timer,
    asgi_batch,
    asgi_scope,
    bare_asgi,
    bare_wsgi,
    fresh_environs,
    fresh_scopes,
    site_document,
    wsgi_batch,
)
from prometheus_client import CollectorRegistry

from redirectware import RedirectMiddleware, RuleSet, WSGIRedirectMiddleware
from redirectware.metrics import Metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    timer = Timer(args.quick)
    with tempfile.TemporaryDirectory() as folder:
        rules = RuleSet.from_dict(site_document(Path(folder), 1_000))
    metrics = Metrics(CollectorRegistry())
    asgi_off = RedirectMiddleware(bare_asgi, rules=rules)
    asgi_on = RedirectMiddleware(bare_asgi, rules=rules, metrics=metrics)
    wsgi_off = WSGIRedirectMiddleware(bare_wsgi, rules=rules)
    wsgi_on = WSGIRedirectMiddleware(bare_wsgi, rules=rules, metrics=metrics)
    pairs = {
        "asgi pass, fresh URL": (
            asgi_batch(asgi_off, fresh_scopes("/products/widget-{}")),
            asgi_batch(asgi_on, fresh_scopes("/products/widget-{}")),
        ),
        "asgi pass, same URL": (
            asgi_batch(asgi_off, asgi_scope(PASS_PATH)),
            asgi_batch(asgi_on, asgi_scope(PASS_PATH)),
        ),
        "asgi https redirect, fresh URL": (
            asgi_batch(asgi_off, fresh_scopes("/products/widget-{}", "http")),
            asgi_batch(asgi_on, fresh_scopes("/products/widget-{}", "http")),
        ),
        "wsgi pass, fresh URL": (
            wsgi_batch(wsgi_off, fresh_environs("/products/widget-{}")),
            wsgi_batch(wsgi_on, fresh_environs("/products/widget-{}")),
        ),
    }
    print(f"{'row':34} {'off':>9} {'on':>9} {'added':>9}")
    for name, (off, on) in pairs.items():
        found = timer.interleaved({"off": off, "on": on}, rounds=11)
        added = found["on"] - found["off"]
        print(
            f"{name:34} {found['off']:7,.0f}ns {found['on']:7,.0f}ns "
            f"{added:+7,.0f}ns ({100 * added / found['off']:+.1f}%)"
        )


if __name__ == "__main__":
    main()
