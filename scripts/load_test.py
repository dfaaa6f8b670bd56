#!/usr/bin/env python3
"""Load and fault run: the FastAPI example under uvicorn, the Flask example under gunicorn.

    .venv/bin/python scripts/load_test.py            # full: 20000 requests x 2 servers, 100 edits
    .venv/bin/python scripts/load_test.py --short    # what CI runs: 2000 requests, 8 edits
    .venv/bin/python scripts/load_test.py --server uvicorn --requests 50000 --concurrency 32

Each example is copied to a temporary folder (so that its rule file can be edited without
touching the repository) and served on 127.0.0.1 on an ephemeral port. Then:

1. **load**: a fixed number of requests from ``--concurrency`` keep-alive connections, a mix of
   redirects (GET 301, POST 308 with a JSON body, a legacy-map 301) and pass-throughs (GET, and
   POST with a body to the app). Every answer is checked (status and Location). Recorded:
   requests per second, p50/p99 latency, errors, and the server's memory (RSS, summed over
   gunicorn's workers) after a warm-up and at the end.
2. **faults**, under the same load: the rule file is rewritten ``--edits`` times with
   ``reload`` on: valid versions (each tagged with its number in a Location *and* in a
   setting, so that an answer mixing two versions shows), invalid YAML, an invalid document,
   and the file deleted. Every answer must come from one valid version; after an invalid
   edit or a deletion the last valid version must still answer. A maintenance ``flag_file``
   is switched on and off; while it is on, answers are the maintenance redirect. Finally
   clients that hang up halfway through a request body; the server's open descriptors and
   memory must come back.

Exit status 0 when there were no errors and memory stayed within ``--memory-bound``; the
figures are printed, and written as JSON with ``--json``. Nothing here is a timing assertion:
the speed is recorded, not judged. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {
    "uvicorn": ROOT / "examples" / "fastapi_app",
    "gunicorn": ROOT / "examples" / "flask_app",
}
#: The rule check runs at most once a second (reloading.py); waits are a few times that.
RELOAD_WAIT = 5.0
BODY = json.dumps({"item": "widget", "qty": 3, "note": "x" * 200}).encode()


# --- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    """A running example: its port, process, folder (a copy of the example) and log."""

    kind: str
    port: int
    process: subprocess.Popen[bytes]
    folder: Path
    log: Path

    def pids(self) -> list[int]:
        """The server process and its children (gunicorn's workers)."""
        pids = [self.process.pid]
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids += [int(p) for p in children.read_text().split()]
        return pids

    def rss_kib(self) -> int:
        """Resident memory of the server and its workers, in KiB (from /proc)."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total

    def open_fds(self) -> int:
        """Open file descriptors of the server and its workers."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                total += len(os.listdir(f"/proc/{pid}/fd"))
        return total


@contextlib.contextmanager
def serve(kind: str, workers: int) -> Iterator[Server]:
    """Copy the example, start it on an inherited 127.0.0.1 socket, wait, always stop it."""
    with tempfile.TemporaryDirectory(prefix=f"redirectware-load-{kind}-") as tmp:
        folder = Path(tmp) / "app"
        shutil.copytree(EXAMPLES[kind], folder, ignore=shutil.ignore_patterns("__pycache__"))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        port, fd = sock.getsockname()[1], sock.fileno()
        pass_fds = [fd]
        if kind == "uvicorn":
            # --port, not --fd: uvicorn wraps an inherited descriptor as AF_UNIX, so asyncio
            # never sets TCP_NODELAY on its connections, and every answer waits ~40 ms for
            # the client's delayed ACK. The port is free again once our socket is closed.
            sock.close()
            pass_fds = []
            argv = [
                sys.executable,
                "-m",
                "uvicorn",
                "app:app",
                "--app-dir",
                str(folder),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--lifespan",
                "on",
                "--log-level",
                "warning",
                "--no-access-log",
            ]
        else:
            argv = [
                sys.executable,
                "-m",
                "gunicorn",
                "--chdir",
                str(folder),
                "--bind",
                f"fd://{fd}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "app:app",
            ]
        log = Path(tmp) / "server.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, pass_fds=pass_fds
            )
        sock.close()
        server = Server(kind, port, process, folder, log)
        try:
            _wait_ready(server)
            yield server
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(server: Server) -> None:
    # The kernel queues the connection on the inherited socket until the server accepts:
    # one request with a deadline is the wait. A dead server fails it at once.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} exited:\n{server.log.read_text()}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn,
        ):
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            if conn.recv(12).startswith(b"HTTP/1.1 200"):
                return
        # Not listening yet (uvicorn binds its own port): wait on the process, not blindly.
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=0.1)
    raise RuntimeError(f"{server.kind} not ready:\n{server.log.read_text()}")


# --- a small HTTP/1.1 client: keep-alive, every byte checked ------------------------------------


class Connection:
    """One client connection; reconnects when the server closes (gunicorn's sync workers do)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request; its status, headers (lower-case names) and body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 30)
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, data


# --- what is asked, and what must come back ------------------------------------------------------

#: (method, path, body, expected status, expected Location path or None).
MIX: list[tuple[str, str, bytes, int, str | None]] = [
    ("GET", "/api/v1/orders?page=2", b"", 301, "/api/v2/orders?page=2"),
    ("POST", "/api/v1/orders", BODY, 308, "/api/v2/orders"),
    ("GET", "/about-us.html", b"", 301, "/about"),
    ("GET", "/healthz", b"", 200, None),
    ("POST", "/api/v2/orders", BODY, 201, None),
    ("GET", "/about", b"", 200, None),
]


@dataclass
class Tally:
    """Answers counted, latencies, and the first few errors in full."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    versions_seen: set[int] = field(default_factory=set)

    def error(self, text: str) -> None:
        """Count one error, keeping its text if it is among the first ten."""
        self.errors += 1
        if len(self.samples) < 10:
            self.samples.append(text)


def _location_path(location: str | None) -> str | None:
    if location is None:
        return None
    return re.sub(r"^https?://[^/]+", "", location)


class Faults:
    """What the fault run has written: the valid versions, and what must be answering."""

    def __init__(self) -> None:
        self.valid: set[int] = set()
        self.flag_on = False
        self.flag_changing = False


_VERSIONED = re.compile(r"/v/(\d+)/x")


def check(
    tally: Tally,
    faults: Faults | None,
    item: tuple[str, str, bytes, int, str | None],
    status: int,
    headers: dict[str, str],
    body: bytes,
) -> None:
    """Count an error when an answer is not the one this request must get."""
    method, path, _, expected, location = item
    got = _location_path(headers.get("location"))
    if faults is not None and (faults.flag_on or faults.flag_changing) and path != "/healthz":
        # While the maintenance flag is on (or being switched) the maintenance redirect is a
        # right answer too.
        maintenance = (got or "").split("?", 1)[0] == "/maintenance"
        if maintenance and status == (302 if method == "GET" else 307):
            return
        if faults.flag_on and not faults.flag_changing:
            tally.error(f"{method} {path}: {status} {got}, flag on: expected maintenance")
            return
    if path == "/c/x":
        # The versioned chain: /c/x -> /d/x -> /v/N/x, with max-age=1000+N from the settings.
        found = _VERSIONED.fullmatch(got or "")
        age = re.fullmatch(r"max-age=(\d+)", headers.get("cache-control", ""))
        if found is None or age is None or status != (301 if method == "GET" else 308):
            tally.error(f"{method} {path}: {status} {got} {headers.get('cache-control')}")
            return
        version = int(found.group(1))
        if int(age.group(1)) != 1000 + version:
            tally.error(f"mixed versions: Location v{version}, max-age {age.group(1)}")
        elif faults is not None and version not in faults.valid:
            tally.error(f"answer from v{version}, which was never a valid rule file")
        tally.versions_seen.add(version)
        return
    if status != expected or got != location:
        tally.error(f"{method} {path}: got {status} {got}, expected {expected} {location}")
    elif status in (200, 201) and not body:
        tally.error(f"{method} {path}: empty body from the app")


async def drive(
    port: int,
    total: int,
    concurrency: int,
    tally: Tally,
    faults: Faults | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Send ``total`` requests (or until ``stop``) from ``concurrency`` connections."""
    mix = MIX + (
        [("GET", "/c/x", b"", 301, None), ("POST", "/c/x", BODY, 308, None)] if faults else []
    )
    counter = iter(range(total))

    async def worker(offset: int) -> None:
        conn = Connection(port)
        try:
            for i in counter:
                if stop is not None and stop.is_set():
                    break
                item = mix[(i + offset) % len(mix)]
                started = time.perf_counter()
                try:
                    status, headers, body = await conn.request(item[0], item[1], item[2])
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.TimeoutError,
                    ValueError,
                ) as error:
                    tally.error(f"{item[0]} {item[1]}: {error!r}")
                    await conn.close()
                    continue
                tally.latencies.append(time.perf_counter() - started)
                check(tally, faults, item, status, headers, body)
        finally:
            await conn.close()

    await asyncio.gather(*(worker(n) for n in range(concurrency)))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def load_phase(server: Server, total: int, concurrency: int) -> dict[str, Any]:
    """Warm up, then ``total`` requests; speed, latency, errors and memory."""
    warm = Tally()
    asyncio.run(drive(server.port, min(500, total), concurrency, warm))
    rss_start = server.rss_kib()
    tally = Tally()
    started = time.perf_counter()
    asyncio.run(drive(server.port, total, concurrency, tally))
    elapsed = time.perf_counter() - started
    rss_end = server.rss_kib()
    return {
        "requests": total,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "rps": round(total / elapsed, 1),
        "p50_ms": round(_percentile(tally.latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(tally.latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(tally.latencies) * 1000, 2) if tally.latencies else 0,
        "errors": tally.errors + warm.errors,
        "error_samples": warm.samples + tally.samples,
        "rss_start_kib": rss_start,
        "rss_end_kib": rss_end,
        "rss_growth_kib": rss_end - rss_start,
    }


# --- faults ----------------------------------------------------------------------------

_EXAMPLE_RULES = """\
  - name: api-v1-moved
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
    permanent: true
  - name: legacy-urls
    map: legacy-urls.csv
    permanent: true
"""


def version_document(number: int) -> str:
    """A valid rule file whose answers carry ``number`` twice: in a Location and a setting."""
    return f"""\
# version {number}
version: 1
settings:
  allowed_hosts: [localhost, 127.0.0.1]
  permanent_max_age: {1000 + number}
rules:
  - name: maintenance
    maintenance: {{flag_file: maintenance.flag, to: /maintenance}}
    except: [/healthz, /maintenance]
  - name: chain-first
    from: /c/{{rest}}
    to: /d/{{rest}}
    permanent: true
{_EXAMPLE_RULES}  - name: chain-second
    from: /d/{{rest}}
    to: /v/{number}/{{rest}}
    permanent: true
"""


INVALID_EDITS = [
    "version: 1\nrules:\n  - from: /c/{rest}\n    to: [unclosed\n",  # broken YAML
    "version: 1\nrules:\n  - from: /c/{rest}\n    too: /v/-1/{rest}\n",  # unknown key
    # a redirect loop
    "version: 1\nrules:\n  - from: /c/{rest}\n    to: /e/{rest}\n"
    "  - from: /e/{rest}\n    to: /c/{rest}\n",
]


def _write(path: Path, text: str, atomic: bool) -> None:
    if atomic:  # how editors and deploy tools write: a new file renamed over the old
        fresh = path.with_suffix(".tmp")
        fresh.write_text(text)
        os.replace(fresh, path)
    else:  # in place, as `cat > file` does: a reader may see it half written
        path.write_text(text)


async def _probe_version(port: int) -> int | None:
    conn = Connection(port)
    try:
        _, headers, _ = await conn.request("GET", "/c/x")
    finally:
        await conn.close()
    found = _VERSIONED.fullmatch(_location_path(headers.get("location")) or "")
    return int(found.group(1)) if found else None


async def _wait_version(port: int, wanted: int, workers: int) -> bool:
    """Wait until ``wanted`` answers, on every worker (several probes in a row)."""
    deadline = time.monotonic() + RELOAD_WAIT
    streak = 0
    while time.monotonic() < deadline:
        streak = streak + 1 if await _probe_version(port) == wanted else 0
        if streak >= 4 * workers:
            return True
        await asyncio.sleep(0.05)
    return False


async def fault_phase(
    server: Server, edits: int, flips: int, concurrency: int, workers: int, hangups: int
) -> dict[str, Any]:
    """Edit the rule file, flip the maintenance flag and hang up, all under load."""
    rules = server.folder / "redirects.yaml"
    flag = server.folder / "maintenance.flag"
    faults = Faults()
    faults.valid.add(1)
    _write(rules, version_document(1), atomic=True)
    tally = Tally()
    stop = asyncio.Event()
    problems: list[str] = []
    if not await _wait_version(server.port, 1, workers):
        problems.append("version 1 never answered")
    load = asyncio.create_task(drive(server.port, 10**9, concurrency, tally, faults, stop))
    rss_start = server.rss_kib()
    version, kept, reloads, invalid, deleted = 1, 0, 0, 0, 0
    for edit in range(edits):
        kind = ["valid", "valid", "invalid", "valid", "delete"][edit % 5]
        atomic = edit % 2 == 0
        if kind == "valid":
            version += 1
            faults.valid.add(version)
            _write(rules, version_document(version), atomic)
            if await _wait_version(server.port, version, workers):
                reloads += 1
            else:
                problems.append(f"edit {edit}: v{version} did not take over")
        else:
            if kind == "invalid":
                _write(rules, INVALID_EDITS[invalid % len(INVALID_EDITS)], atomic)
                invalid += 1
            else:
                rules.unlink()
                deleted += 1
            # Long enough for every worker to have looked at the file at least once.
            await asyncio.sleep(2.5)
            answers = {await _probe_version(server.port) for _ in range(4 * workers)}
            if answers == {version}:
                kept += 1
            else:
                problems.append(f"edit {edit} ({kind}): answers {answers}, expected v{version}")
    for _ in range(flips):
        faults.flag_changing = True
        flag.touch()
        await asyncio.sleep(2.5)  # the flag file is looked at once a second
        faults.flag_changing = False
        faults.flag_on = True
        await asyncio.sleep(0.5)
        faults.flag_changing = True
        faults.flag_on = False
        flag.unlink()
        await asyncio.sleep(2.5)
        faults.flag_changing = False
        await asyncio.sleep(0.5)
    stop.set()
    await load
    hangup = await _hangups(server, hangups)
    rss_end = server.rss_kib()
    return {
        "edits": edits,
        "valid_versions_written": version,
        "reloads_seen": reloads,
        "invalid_edits": invalid,
        "deletions": deleted,
        "old_rules_kept": kept,
        "flag_flips": flips,
        "requests_under_faults": len(tally.latencies) + tally.errors,
        "versions_answering": len(tally.versions_seen),
        "errors": tally.errors + len(problems),
        "error_samples": tally.samples + problems[:10],
        "rss_start_kib": rss_start,
        "rss_end_kib": rss_end,
        "rss_growth_kib": rss_end - rss_start,
        **hangup,
    }


async def _hangups(server: Server, count: int) -> dict[str, Any]:
    """Clients that send half a body and hang up, to the app and to a redirect."""
    fds_before = server.open_fds()
    for n in range(count):
        path = "/api/v2/orders" if n % 2 else "/api/v1/orders"
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: 100000\r\n\r\n".encode()
            + b"x" * 1000
        )
        await writer.drain()
        writer.transport.abort()  # a reset, as a client that crashed or lost its network
    # The server must let go of every connection: wait for its descriptors to come back.
    deadline = time.monotonic() + 15
    fds_after = server.open_fds()
    while fds_after > fds_before + 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        fds_after = server.open_fds()
    # And still answer.
    alive = await _probe_version(server.port) is not None
    return {
        "hangups": count,
        "fds_before": fds_before,
        "fds_after": fds_after,
        "fds_leaked": max(0, fds_after - fds_before - 2),
        "alive_after_hangups": alive,
    }


# --- main -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the phases on each server; 0 when every figure is within its bound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="the CI run: small counts")
    parser.add_argument("--server", choices=["uvicorn", "gunicorn", "both"], default="both")
    parser.add_argument("--requests", type=int, help="load-phase requests (20000; short 2000)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--edits", type=int, help="rule-file edits (100; short 8)")
    parser.add_argument("--flips", type=int, help="maintenance flag flips (10; short 1)")
    parser.add_argument("--hangups", type=int, help="mid-body disconnects (200; short 40)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--memory-bound",
        type=int,
        default=16 * 1024,
        help="allowed RSS growth in KiB per phase (16 MiB)",
    )
    parser.add_argument("--no-faults", action="store_true", help="the load phase only")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    total = args.requests or (2000 if args.short else 20000)
    edits = args.edits if args.edits is not None else (8 if args.short else 100)
    flips = args.flips if args.flips is not None else (1 if args.short else 10)
    hangups = args.hangups if args.hangups is not None else (40 if args.short else 200)
    kinds = ["uvicorn", "gunicorn"] if args.server == "both" else [args.server]
    results: dict[str, Any] = {
        "mode": "short" if args.short else "full",
        "python": sys.version.split()[0],
    }
    failed = False
    for kind in kinds:
        workers = args.workers if kind == "gunicorn" else 1
        with serve(kind, workers) as server:
            load = load_phase(server, total, args.concurrency)
            results[f"{kind}_load"] = load
            print(f"{kind} load: {json.dumps(load)}", flush=True)
            failed |= load["errors"] > 0 or load["rss_growth_kib"] > args.memory_bound
            if not args.no_faults:
                faults = asyncio.run(
                    fault_phase(server, edits, flips, args.concurrency, workers, hangups)
                )
                results[f"{kind}_faults"] = faults
                print(f"{kind} faults: {json.dumps(faults)}", flush=True)
                failed |= (
                    faults["errors"] > 0
                    or faults["rss_growth_kib"] > args.memory_bound
                    or faults["fds_leaked"] > 0
                    or not faults["alive_after_hangups"]
                )
    results["ok"] = not failed
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print("OK" if not failed else "FAILED", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
