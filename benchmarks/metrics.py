"""What do Prometheus counters cost a request? ``metrics=True`` against the same middleware
without, in bench.py's rows.

Run it from the repository root::

    .venv/bin/python benchmarks/metrics.py            # a few seconds per row
    .venv/bin/python benchmarks/metrics.py --quick

Each pair (metrics off, metrics on) is timed back to back, round after round, on
the "site" document of bench.py (100 templates and 1,000 map rows): a fresh pass-through (a
URL never asked before, so the engine answers it afresh, the cost every new URL of the site
pays), a repeated pass-through, and a fresh redirect; ASGI and WSGI. Printed: the median ns
per request off and on, and the median over rounds of what metrics added, in ns and per
cent. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
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
    print(f"{'row':34} {'off':>9} {'on':>9} {'added (median of paired rounds)':>34}")
    for name, (off, on) in pairs.items():
        off_ns, on_ns, added, share = paired(timer, off, on, rounds=5 if args.quick else 31)
        print(f"{name:34} {off_ns:7,.0f}ns {on_ns:7,.0f}ns {added:+7,.0f}ns ({share:+.1f}%)")


def paired(
    timer: Timer, off: Callable[[int], int], on: Callable[[int], int], rounds: int
) -> tuple[float, float, float, float]:
    """Off and on timed back to back in each round; the medians of each, of the added ns and
    of the added share, taken round by round, so that a busy moment of the machine (which
    lasts longer than one round) falls on both halves of a pair alike."""
    loops = max(timer._calibrate(off), 1)
    offs, ons, added, shares = [], [], [], []
    for _ in range(rounds):
        a = off(loops) / loops
        b = on(loops) / loops
        offs.append(a)
        ons.append(b)
        added.append(b - a)
        shares.append(100 * (b - a) / a)
    median = statistics.median
    return median(offs), median(ons), median(added), median(shares)


if __name__ == "__main__":
    main()
