"""What an exported map costs nginx: one regex entry per row, measured.

The nginx export writes each map row as its own ``if`` (matched against the request target as
sent, every spelling of the path accepted, case-sensitive), not as an nginx ``map``, whose
keys compare without case and accept one spelling only: faithful, at a cost per row that
nginx pays on every request the rows do not answer early. This script measures it: for
maps of several sizes, Debian's nginx serving the export on 127.0.0.1, the median time of a
request that hits the first row, the last row, and none (passes through), against nginx
with no redirects at all.

Run it from the repository root::

    .venv/bin/python benchmarks/export_nginx.py            # 10, 1,000 and 10,000 rows
    .venv/bin/python benchmarks/export_nginx.py --quick    # 10 and 200 rows, few requests

This is a measuring script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from redirectware import RuleSet
from redirectware.tools.exporting.export import export

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = """\
worker_processes 1;
error_log {folder}/error.log warn;
pid {folder}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    server {{
        listen 127.0.0.1:{port};
        {include}
        location / {{ return 200 "app"; }}
    }}
}}
"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _median_ms(port: int, path: str, count: int) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        connection.request("GET", path, headers={"Host": "example.com"})
        connection.getresponse().read()
        times.append(time.perf_counter() - start)
    connection.close()
    return statistics.median(times) * 1000


def measure(rows: int, count: int) -> tuple[str, float, int, dict[str, float]]:
    """(label, config load seconds, config bytes, {request: median ms})."""
    with tempfile.TemporaryDirectory(prefix="redirectware-bench-nginx-") as name:
        folder = Path(name)
        (folder / "body").mkdir()
        include, size = "", 0
        if rows:
            document = {"rules": [{"name": "legacy", "permanent": True, "map": [
                {"from": f"/old/page-{n}", "to": f"/new/page-{n}"} for n in range(rows)
            ]}]}  # fmt: skip
            text = export(RuleSet.from_dict(document), "nginx")
            (folder / "redirects.conf").write_text(text)
            include, size = f"include {folder}/redirects.conf;", len(text.encode())
        port = _port()
        (folder / "nginx.conf").write_text(CONF.format(folder=folder, port=port, include=include))
        started = time.perf_counter()
        process = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = started + 120
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.perf_counter() > deadline or process.poll() is not None:
                        raise RuntimeError((folder / "error.log").read_text()) from None
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=0.02)  # returns early if nginx died
            loaded = time.perf_counter() - started
            paths = {"no row (passes)": "/elsewhere"}
            if rows:
                paths.update({"first row": "/old/page-0", "last row": f"/old/page-{rows - 1}"})
            results = {label: _median_ms(port, path, count) for label, path in paths.items()}
        finally:
            process.terminate()
            process.wait(timeout=15)
    return (f"{rows:,} rows" if rows else "no redirects"), loaded, size, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few requests")
    args = parser.parse_args()
    sizes = (0, 10, 200) if args.quick else (0, 10, 1000, 10000)
    count = 50 if args.quick else 1000
    print(f"nginx {subprocess.run([NGINX, '-v'], capture_output=True, text=True).stderr.strip()}"
          f", {count} sequential keep-alive GETs per cell, median")  # fmt: skip
    print("| export | config | nginx start | first row | last row | no row (passes) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for rows in sizes:
        label, loaded, size, results = measure(rows, count)
        cells = [f"{results[key]:.3f} ms" if key in results else "-"
                 for key in ("first row", "last row", "no row (passes)")]  # fmt: skip
        print(f"| {label} | {size / 1024:,.0f} KiB | {loaded:.2f} s | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
