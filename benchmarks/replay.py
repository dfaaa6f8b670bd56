"""How fast does ``redirectware replay`` read an access log, and in how much memory?

Run it from the repository root::

    .venv/bin/python benchmarks/replay.py                     # 1,000,000 lines
    .venv/bin/python benchmarks/replay.py --lines 10000000    # the issue's 10 million
    .venv/bin/python benchmarks/replay.py --lines 10000000 --gzip
    .venv/bin/python benchmarks/replay.py --unique       # every line a request of its own

It writes a combined-format log of LINES lines to a temporary file (not timed): paths drawn
from a long-tailed (Zipf-like) distribution over 100,000 pages, about 8% of them 404s with
referrers, 3% redirects, query strings on a few, some POSTs. Then it runs the same code as
``redirectware replay`` over it in a fresh process and prints lines per second (of wall
time, and of the process's CPU time, which a machine busy with other work disturbs less)
and the process's peak resident memory. Memory that stays flat from 1 million to 10 million lines
is what "constant memory" means here. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RULES = """\
version: 1
settings:
  allowed_hosts: [example.com]
rules:
  - name: old-blog
    from: /blog/{year:int}/{slug}
    to: /posts/{slug}
    permanent: true
  - name: shop-moved
    from: /shop/{rest:path}
    to: /store/{rest}
  - name: never-used
    from: /nothing-asks-for-this
    to: /
"""

PAGES = 100_000


def write_log(path: Path, lines: int, compress: bool, unique: bool = False) -> None:
    """A combined-format log of ``lines`` lines, reproducible (seeded); with ``unique``, every
    request carries a query string of its own, so that no two lines share a key."""
    rng = random.Random(17)
    weights = [1 / (rank + 1) for rank in range(PAGES)]
    chunk = 100_000
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="latin-1") as out:
        written = 0
        while written < lines:
            size = min(chunk, lines - written)
            ranks = rng.choices(range(PAGES), weights, k=size)
            rows = []
            for number, rank in enumerate(ranks, written):
                kind = rank % 40
                if kind < 3:
                    target, status = f"/blog/20{10 + rank % 15}/post-{rank}", 301
                elif kind < 6:
                    target, status = f"/missing/page-{rank}", 404
                elif kind == 6:
                    target, status = f"/shop/item-{rank}?utm_source=mail", 200
                else:
                    target, status = f"/page/{rank}", 200
                if unique:
                    target += ("&" if "?" in target else "?") + f"n={number}"
                method = "POST" if rank % 97 == 0 else "GET"
                referer = f"https://ref{rank % 7}.example/x" if status == 404 else "-"
                rows.append(
                    f'203.0.113.{rank % 250} - - [28/Nov/2026:05:16:36 +0000] "{method} {target} '
                    f'HTTP/1.1" {status} {rank % 9000} "{referer}" "Mozilla/5.0 (bench)"\n'
                )
            out.write("".join(rows))
            written += size


def measure(rules: Path, log: Path) -> dict[str, float]:
    """Replay ``log`` in this process; lines, wall and CPU seconds, peak RSS in MiB."""
    from redirectware.cli.replay import run_replay

    started = time.perf_counter()
    cpu_started = time.process_time()
    # The report itself goes to a file: printing it is not what is measured.
    with open(log.with_suffix(".report.json"), "w") as report:
        stdout, sys.stdout = sys.stdout, report
        try:
            run_replay(
                rules,
                [str(log)],
                as_json=True,
                log_format=None,
                host=None,
                scheme="https",
                top=20,
            )
        finally:
            sys.stdout = stdout
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    lines = json.loads(log.with_suffix(".report.json").read_text())["lines"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"lines": lines, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--gzip", action="store_true", help="write and read a .gz log")
    parser.add_argument(
        "--unique", action="store_true", help="the worst case: no two lines share a request"
    )
    parser.add_argument("--measure", nargs=2, metavar=("RULES", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), Path(args.measure[1]))))
        return
    with tempfile.TemporaryDirectory() as folder:
        rules = Path(folder) / "redirects.yaml"
        rules.write_text(RULES)
        log = Path(folder) / ("access.log.gz" if args.gzip else "access.log")
        write_log(log, args.lines, args.gzip, args.unique)
        size = log.stat().st_size
        # A fresh process, so that peak memory is the replay's, not the generator's.
        found = subprocess.run(
            [sys.executable, __file__, "--measure", str(rules), str(log)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(found.stdout)
        rate = result["lines"] / result["seconds"]
        print(
            f"{result['lines']:,} lines ({size / 2**20:,.0f} MiB{' gzip' if args.gzip else ''}"
            f"{', all distinct' if args.unique else ''}): "
            f"{result['seconds']:.1f} s, {rate:,.0f} lines/s; CPU {result['cpu_seconds']:.1f} s, "
            f"{result['lines'] / result['cpu_seconds']:,.0f} lines per CPU second; "
            f"peak RSS {result['peak_rss_mib']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
