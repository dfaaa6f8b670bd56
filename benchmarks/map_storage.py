"""Which store a compiled map should use: LMDB, a marisa-trie, or a plain dict, measured.

For N rows (``/blog/2014/03/slug-N.html`` -> ``/posts/slug-N``) it reports, for each store,
the time to build it, the size on disk (what the page cache shares between workers), the
memory a process holds after opening it (tracemalloc: Python objects only, the mapped file
is not counted), and the median nanoseconds of a hit and of a miss. The dict is the
in-memory map of today, kept in every worker.

Run it from the repository root (``marisa-trie`` is not a dependency; install it to
compare)::

    .venv/bin/python benchmarks/map_storage.py --rows 1000000

This is a measuring script, not a test: nothing here asserts a number.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _folder_size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def _lookup_ns(get: Callable[[Any], Any], keys: list[Any]) -> float:
    samples = []
    for _ in range(7):
        started = time.perf_counter()
        for key in keys:
            get(key)
        samples.append((time.perf_counter() - started) / len(keys) * 1e9)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    """Print one Markdown row per store."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    keys = [f"/blog/2014/03/slug-{n}.html" for n in range(args.rows)]
    values = [f"/posts/slug-{n}\x001\x00\x00{n + 2}" for n in range(args.rows)]
    rng = random.Random(5)
    hits = rng.sample(keys, min(20_000, args.rows))
    misses = [key + "x" for key in hits]
    print("| store | build | on disk | held by a process | hit | miss |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        started = time.perf_counter()
        tracemalloc.start()
        table = dict(zip(keys, values, strict=True))
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        built = time.perf_counter() - started
        print(
            f"| dict (in memory, per worker) | {built:.1f} s | - | {held / 1e6:,.0f} MB | "
            f"{_lookup_ns(table.get, hits):,.0f} ns | {_lookup_ns(table.get, misses):,.0f} ns |"
        )
        del table

        import lmdb

        started = time.perf_counter()
        path = folder / "map.lmdb"
        records = sorted(zip((k.encode() for k in keys), (v.encode() for v in values), strict=True))
        env = lmdb.open(str(path), map_size=1 << 33, lock=False, sync=False, metasync=False)
        with env.begin(write=True) as txn:
            txn.cursor().putmulti(records, append=True)
        env.close()
        built = time.perf_counter() - started
        del records
        tracemalloc.start()
        env = lmdb.open(str(path), readonly=True, lock=False)
        txn = env.begin()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        hit_bytes = [key.encode() for key in hits]
        miss_bytes = [key.encode() for key in misses]
        print(
            f"| LMDB (`lmdb`, a wheel) | {built:.1f} s | {_folder_size(path) / 1e6:,.0f} MB | "
            f"{held / 1e3:,.0f} kB | {_lookup_ns(txn.get, hit_bytes):,.0f} ns | "
            f"{_lookup_ns(txn.get, miss_bytes):,.0f} ns |"
        )

        try:
            import marisa_trie  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            print("| marisa-trie | (not installed) | | | | |")
            return 0
        started = time.perf_counter()
        trie = marisa_trie.BytesTrie(zip(keys, (v.encode() for v in values), strict=True))
        trie.save(str(folder / "map.marisa"))
        built = time.perf_counter() - started
        del trie
        tracemalloc.start()
        mapped = marisa_trie.BytesTrie()
        mapped.mmap(str(folder / "map.marisa"))
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        size = (folder / "map.marisa").stat().st_size
        print(
            f"| marisa-trie (`marisa-trie`, a wheel) | {built:.1f} s | {size / 1e6:,.0f} MB | "
            f"{held / 1e3:,.0f} kB | {_lookup_ns(mapped.get, hits):,.0f} ns | "
            f"{_lookup_ns(mapped.get, misses):,.0f} ns |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
