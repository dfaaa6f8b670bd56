"""End to end: the FastAPI example under uvicorn, with and without redirectware, under hey.

    .venv/bin/python benchmarks/e2e.py                    # 3 rounds x 20,000 requests each
    .venv/bin/python benchmarks/e2e.py --requests 2000 --rounds 1

Both servers run the same process: the example app of ``examples/fastapi_app`` under one
uvicorn worker; the "bare" one has redirectware taken out of the app's middleware list before
it starts. hey (``apt-get install hey``) sends exactly ``--requests`` requests from
``--connections`` keep-alive connections on 127.0.0.1 (and is stopped after ``--seconds``).
The rounds alternate bare and redirectware, so that whatever else the machine is doing falls
on both alike; the table gives the median. Every answer must be a 200.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fastapi_app"

SERVER = """
import sys
sys.path.insert(0, {example!r})
import uvicorn
import app as example
from redirectware import RedirectMiddleware
if {bare!r}:
    example.app.user_middleware[:] = [
        m for m in example.app.user_middleware if m.cls is not RedirectMiddleware
    ]
uvicorn.run(example.app, host="127.0.0.1", port={port}, log_level="warning", access_log=False)
"""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(bare: bool, folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start one uvicorn server and wait until it answers /healthz."""
    port = free_port()
    code = SERVER.format(example=str(folder), bare=bare, port=port)
    process = subprocess.Popen([sys.executable, "-c", code], cwd=folder)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def drive(port: int, path: str, requests: int, seconds: int, connections: int) -> float:
    """Requests per second that hey measured over exactly ``requests`` requests."""
    out = subprocess.run(
        ["hey", "-n", str(requests), "-c", str(connections), f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds,
    ).stdout
    codes = re.findall(r"\[(\d+)\]\s+(\d+) responses", out)
    if [code for code, _ in codes] != ["200"] or "Error distribution" in out:
        raise RuntimeError(f"unexpected answers:\n{out}")
    found = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if found is None:
        raise RuntimeError(out)
    return float(found.group(1))


def main(argv: list[str] | None = None) -> int:
    """Run the rounds; print a Markdown table of requests per second."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=120, help="time bound of one hey run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--path", default="/products/widget", help="a pass-through page")
    args = parser.parse_args(argv)
    if shutil.which("hey") is None:
        print("hey is not installed (apt-get install hey)", file=sys.stderr)
        return 2
    results: dict[str, list[float]] = {"bare": [], "redirectware": []}
    with tempfile.TemporaryDirectory(prefix="redirectware-e2e-") as tmp:
        folder = Path(tmp) / "app"
        # A copy, so that the example's reloading and flag file never touch the repository.
        shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
        servers = {name: start(name == "bare", folder) for name in results}
        try:
            for _, port in servers.values():  # warm-up: imports, first compiles
                drive(port, args.path, 500, args.seconds, args.connections)
            for _ in range(args.rounds):
                for name, (_, port) in servers.items():
                    rps = drive(port, args.path, args.requests, args.seconds, args.connections)
                    results[name].append(rps)
                    print(f"  {name:13} {rps:10.0f} requests/s", file=sys.stderr, flush=True)
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=10)
    bare = statistics.median(results["bare"])
    with_rw = statistics.median(results["redirectware"])
    print(f"GET {args.path} (passes through), {args.requests} requests x {args.rounds} rounds, "
          f"{args.connections} connections, uvicorn 1 worker, hey\n")  # fmt: skip
    print("| server | requests/s (median) | rounds |\n| --- | ---: | --- |")
    for name, values in results.items():
        rounds = ", ".join(f"{v:.0f}" for v in values)
        print(f"| {name} | {statistics.median(values):,.0f} | {rounds} |")
    print(f"\nredirectware / bare: {with_rw / bare:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
