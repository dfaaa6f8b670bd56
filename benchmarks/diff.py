"""How fast does ``redirectware diff`` read an access log, and in how much memory?

Run it from the repository root::

    .venv/bin/python benchmarks/diff.py                     # 1,000,000 lines
    .venv/bin/python benchmarks/diff.py --lines 10000000    # 10 million
    .venv/bin/python benchmarks/diff.py --lines 10000000 --unique

It writes the same generated combined-format log as ``benchmarks/replay.py`` (not timed),
and two documents: the old one, and a new one where the blog rule is gone and the shop rule
points elsewhere, so that about 6% of the logged requests change answer. Then it runs the
same code as ``redirectware diff OLD NEW --log LOG --json`` over them in a fresh process and
prints lines per second (wall and CPU time) and the process's peak resident memory. Nothing
here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from replay import RULES, write_log  # the benchmark next door

NEW_RULES = """\
version: 1
settings:
  allowed_hosts: [example.com]
rules:
  - name: shop-moved
    from: /shop/{rest:path}
    to: /boutique/{rest}
  - name: never-used
    from: /nothing-asks-for-this
    to: /
"""


def measure(old: Path, new: Path, log: Path) -> dict[str, float]:
    """Diff over ``log`` in this process; lines, changes, wall and CPU seconds, peak RSS."""
    from redirectware.cli.diff import run_diff

    started = time.perf_counter()
    cpu_started = time.process_time()
    out = log.with_suffix(".diff.json")
    with open(out, "w") as report:
        stdout, sys.stdout = sys.stdout, report
        try:
            run_diff(old, new, [str(log)], as_json=True, host=None)
        finally:
            sys.stdout = stdout
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    summary = json.loads(out.read_text())["summary"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "lines": summary["logged_lines"],
        "changed": summary["requests"],
        "hits": summary["hits"],
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mib": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--gzip", action="store_true", help="write and read a .gz log")
    parser.add_argument(
        "--unique", action="store_true", help="the worst case: no two lines share a request"
    )
    parser.add_argument("--measure", nargs=3, metavar=("OLD", "NEW", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        old, new, log = (Path(name) for name in args.measure)
        print(json.dumps(measure(old, new, log)))
        return
    with tempfile.TemporaryDirectory() as folder:
        old, new = Path(folder) / "old.yaml", Path(folder) / "new.yaml"
        old.write_text(RULES)
        new.write_text(NEW_RULES)
        log = Path(folder) / ("access.log.gz" if args.gzip else "access.log")
        write_log(log, args.lines, args.gzip, args.unique)
        size = log.stat().st_size
        # A fresh process, so that peak memory is the diff's, not the generator's.
        found = subprocess.run(
            [sys.executable, __file__, "--measure", str(old), str(new), str(log)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(found.stdout)
        rate = result["lines"] / result["seconds"]
        print(
            f"{result['lines']:,} lines ({size / 2**20:,.0f} MiB{' gzip' if args.gzip else ''}"
            f"{', all distinct' if args.unique else ''}): {result['changed']:,} requests "
            f"change answer, {result['hits']:,} logged hits; {result['seconds']:.1f} s, "
            f"{rate:,.0f} lines/s; CPU {result['cpu_seconds']:.1f} s; "
            f"peak RSS {result['peak_rss_mib']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
