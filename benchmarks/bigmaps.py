"""A million-row map under gunicorn: memory shared by the workers, boot time, hit cost.

Generates a 1,000,000-row CSV map (``/blog/2014/03/slug-N.html`` -> ``/posts/slug-N``),
then for the compiled map (LMDB, the default with the ``lmdb`` extra) and for the same map
in memory (``settings.map_cache: false``):

* compiles (or loads) it once in a fresh process and reports the time;
* starts gunicorn with 4 sync workers on 127.0.0.1, waits until it answers, and sums the
  PSS of master and workers (``/proc/PID/smaps_rollup``) at boot;
* sends a bounded number of random map hits (64,000 by default) over keep-alive
  connections and sums the PSS again;
* times a map hit in one process at 10 rows and at 1,000,000 rows.

Run it from the repository root::

    .venv/bin/python benchmarks/bigmaps.py              # 1,000,000 rows, 64,000 hits
    .venv/bin/python benchmarks/bigmaps.py --rows 100000 --hits 8000

This is a measuring script, not a test: nothing here asserts a number.
"""

from __future__ import annotations

import argparse
import http.client
import random
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

WORKERS = 4


def write_map(folder: Path, rows: int) -> Path:
    """The CSV, and a rule document naming it (with ``map_cache`` as asked)."""
    csv = folder / "legacy.csv"
    with csv.open("w", encoding="utf-8") as out:
        out.write("from,to\n")
        for n in range(rows):
            out.write(f"/blog/2014/03/slug-{n}.html,/posts/slug-{n}\n")
    return csv


def write_document(folder: Path, compiled: bool) -> Path:
    cache = ".maps" if compiled else "false"
    path = folder / ("compiled.yaml" if compiled else "memory.yaml")
    path.write_text(
        f"version: 1\nsettings:\n  map_cache: {cache}\nrules:\n"
        "  - map: legacy.csv\n    permanent: true\n",
        encoding="utf-8",
    )
    return path


def write_app(folder: Path, document: Path) -> str:
    module = folder / f"app_{document.stem}.py"
    module.write_text(
        textwrap.dedent(f"""
        from redirectware import WSGIRedirectMiddleware

        def bare(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"app"]

        app = WSGIRedirectMiddleware(bare, rules={str(document)!r})
        """),
        encoding="utf-8",
    )
    return module.stem


def load_seconds(document: Path) -> float:
    """Seconds a fresh process takes to load the document (imports excluded)."""
    code = (
        "import time, redirectware; t = time.perf_counter(); "
        f"redirectware.RuleSet.from_file({str(document)!r}); "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def pss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers(port: int, path: str) -> int | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path, headers={"Host": "example.com"})
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return None


def serve(folder: Path, module: str, rows: int, hits: int) -> dict[str, float]:
    """Boot gunicorn, measure, hit, measure again; always stop it."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(WORKERS),
            "-b",
            f"127.0.0.1:{port}",
            f"{module}:app",
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600
        # Ready when every worker has answered: each request may reach any worker, so ask
        # until as many distinct workers as there are have their rules loaded (boot PSS
        # stops rising) and one answer came back.
        while answers(port, "/blog/2014/03/slug-0.html") != 301:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.05)
        previous = -1
        while True:
            now = pss_kb(server.pid) + sum(pss_kb(child) for child in children(server.pid))
            if now == previous and len(children(server.pid)) == WORKERS:
                break
            previous = now
            time.sleep(0.5)
        boot_seconds = time.perf_counter() - started
        boot_pss = now
        rng = random.Random(7)
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(8)]
        for number in range(hits):
            connection = connections[number % len(connections)]
            connection.request(
                "GET", f"/blog/2014/03/slug-{rng.randrange(rows)}.html",
                headers={"Host": "example.com"},
            )  # fmt: skip
            response = connection.getresponse()
            response.read()
        for connection in connections:
            connection.close()
        after = pss_kb(server.pid) + sum(pss_kb(child) for child in children(server.pid))
        return {
            "boot_s": boot_seconds,
            "boot_pss_mb": boot_pss / 1024,
            "after_pss_mb": after / 1024,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def hit_ns(document: Path, rows: int) -> float:
    """Median ns of a map hit through the engine, fresh keys, in one process."""
    code = textwrap.dedent(f"""
        import random, statistics, time, redirectware
        rules = redirectware.RuleSet.from_file({str(document)!r})
        rng = random.Random(3)
        paths = [f"/blog/2014/03/slug-{{rng.randrange({rows})}}.html" for _ in range(20000)]
        samples = []
        for _ in range(7):
            t = time.perf_counter()
            for path in paths:
                rules.resolve("GET", "https", "example.com", path)
            samples.append((time.perf_counter() - t) / len(paths) * 1e9)
        print(statistics.median(samples))
    """)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    """Print the measurements as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--hits", type=int, default=64_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="redirectware-bigmaps-") as tmp:
        folder = Path(tmp)
        write_map(folder, args.rows)
        small = folder / "small"
        small.mkdir()
        write_map(small, 10)
        print(
            f"| {args.rows:,} rows, {WORKERS} gunicorn sync workers | compiled (LMDB) | in memory |"
        )
        print("| --- | ---: | ---: |")
        results: dict[str, dict[str, float]] = {}
        for compiled in (True, False):
            document = write_document(folder, compiled)
            first = load_seconds(document)  # the compiled kind compiles here
            again = load_seconds(document)
            measured = serve(folder, write_app(folder, document), args.rows, args.hits)
            small_doc = write_document(small, compiled)
            measured.update(
                first_load_s=first,
                load_s=again,
                hit_ns=hit_ns(document, args.rows),
                hit_small_ns=hit_ns(small_doc, 10),
            )
            results["compiled" if compiled else "memory"] = measured
        rows = [
            ("first load in one process (compiles)", "first_load_s", "{:.2f} s"),
            ("load in one process, compiled file present", "load_s", "{:.2f} s"),
            ("boot until all workers serve", "boot_s", "{:.1f} s"),
            ("PSS, master + workers, at boot", "boot_pss_mb", "{:,.0f} MB"),
            (f"PSS after {args.hits:,} random map hits", "after_pss_mb", "{:,.0f} MB"),
            (f"map hit, {args.rows:,} rows", "hit_ns", "{:,.0f} ns"),
            ("map hit, 10 rows", "hit_small_ns", "{:,.0f} ns"),
        ]
        for label, key, fmt in rows:
            line = [fmt.format(results[kind][key]) for kind in ("compiled", "memory")]
            print(f"| {label} | {line[0]} | {line[1]} |")
        for kind in ("compiled", "memory"):
            ratio = results[kind]["hit_ns"] / results[kind]["hit_small_ns"]
            print(f"\n{kind}: hit at {args.rows:,} rows / hit at 10 rows = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
