"""A site with a CSV map served by real servers, and clients that record every answer.

Shared by the fault tests of compiled maps and reloads (tests/test_map_faults.py): each
builds a site in a folder, serves it with gunicorn or uvicorn, sends traffic from a few
threads while it injects a fault, and then judges every answer the clients got.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.servers import GUNICORN, UVICORN, Server, serve

ROOT = Path(__file__).resolve().parent.parent

#: The site's app: the redirect middleware in front of an app that answers 404 and its pid.
APP = """
import os
from redirectware import RedirectMiddleware, WSGIRedirectMiddleware

RULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "redirects.yaml")
RELOAD = os.environ.get("SITE_RELOAD") == "1"
INTERVAL = float(os.environ.get("SITE_INTERVAL", "1"))


def inner(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain"),
                                     ("X-Worker-Pid", str(os.getpid()))])
    return [b"not redirected"]


async def inner_asgi(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"x-worker-pid", str(os.getpid()).encode())]})
    await send({"type": "http.response.body", "body": b"not redirected"})


app = WSGIRedirectMiddleware(inner, rules=RULES, reload=RELOAD, reload_interval=INTERVAL)
asgi = RedirectMiddleware(inner_asgi, rules=RULES, reload=RELOAD, reload_interval=INTERVAL)
"""


def write_rows(csv: Path, version: str, rows: int) -> None:
    """The map ``/m/I -> /VERSION/I`` for I below ``rows``, written whole in one go."""
    csv.write_text(csv_text(version, rows), encoding="utf-8")


def csv_text(version: str, rows: int) -> str:
    """The text of the map ``/m/I -> /VERSION/I``."""
    return "from,to\n" + "".join(f"/m/{i},/{version}/{i}\n" for i in range(rows))


def make_site(folder: Path, rows: int, map_cache: Any = None) -> Path:
    """A site in ``folder``: app.py, redirects.yaml and legacy.csv (version ``old``)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(APP, encoding="utf-8")
    settings = {} if map_cache is None else {"map_cache": map_cache}
    document = {
        "version": 1,
        "settings": settings,
        "rules": [{"name": "legacy", "map": "legacy.csv", "permanent": True}],
    }
    (folder / "redirects.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    write_rows(folder / "legacy.csv", "old", rows)
    return folder


def compiled_files(folder: Path) -> list[Path]:
    """The compiled files of the site's map in its default cache folder."""
    return sorted((folder / ".redirectware").glob("legacy.csv.*.lmdb"))


def site_env(folder: Path, *, reload: bool = False, interval: float = 1.0) -> dict[str, str]:
    """The environment a server of the site runs in (its own user cache folder: a map
    compiled by another test must not be found there)."""
    return {
        "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT / "src"), str(ROOT)]),
        "XDG_CACHE_HOME": str(folder / "user-cache"),
        "SITE_RELOAD": "1" if reload else "0",
        "SITE_INTERVAL": str(interval),
    }


def all_workers(server: Server, workers: int, timeout: float = 60.0) -> set[str]:
    """Wait until ``workers`` distinct processes have answered (all booted): a fault must
    not meet a worker still loading its rules. Their pids."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < workers:
        assert time.monotonic() < deadline, f"only {len(seen)} of {workers} workers answered"
        answer = requests.get(f"{server.url}/ready", headers={"Connection": "close"}, timeout=30)
        seen.add(answer.headers["X-Worker-Pid"])
    return seen


@contextmanager
def gunicorn(
    folder: Path,
    workers: int,
    *extra: str,
    reload: bool = False,
    interval: float = 1.0,
    launcher: Sequence[str] = GUNICORN,
) -> Iterator[Server]:
    """The site under gunicorn with ``workers`` sync workers (started by ``launcher``)."""
    command = [*launcher, "--workers", str(workers), "--bind", "fd://{fd}", *extra, "app:app"]
    env = site_env(folder, reload=reload, interval=interval)
    with serve(command, env=env, cwd=folder, ready_path="/ready") as server:
        all_workers(server, workers)
        yield server


@contextmanager
def uvicorn(folder: Path, *, reload: bool = False, interval: float = 1.0) -> Iterator[Server]:
    """The site under one uvicorn process (ASGI)."""
    command = [*UVICORN, "app:asgi", "--fd", "{fd}", "--log-level", "warning"]
    env = site_env(folder, reload=reload, interval=interval)
    with serve(command, env=env, cwd=folder, ready_path="/ready") as server:
        yield server


@dataclass(frozen=True)
class Answer:
    """One request of the traffic and what came back."""

    sent: float
    received: float
    row: int
    status: int | None  # None: no answer (the connection failed)
    location: str | None
    error: str | None

    @property
    def failed(self) -> bool:
        """No answer, or a server error."""
        return self.status is None or self.status >= 500


@dataclass
class Traffic:
    """Clients asking for ``/m/I`` (I cycling below ``rows``) until stopped.

    Each request is on a fresh connection, so that a worker that dies fails only the
    requests it held.
    """

    url: str
    rows: int
    clients: int = 4
    answers: list[Answer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _client(self, offset: int) -> None:
        row = offset * 7919
        with requests.Session() as session:
            while not self._stop.is_set():
                row = (row + 97) % self.rows
                sent = time.monotonic()
                try:
                    answer = session.get(
                        f"{self.url}/m/{row}",
                        allow_redirects=False,
                        headers={"Connection": "close"},
                        timeout=20,
                    )
                    got = Answer(sent, time.monotonic(), row, answer.status_code,
                                 answer.headers.get("Location"), None)  # fmt: skip
                except requests.RequestException as error:
                    got = Answer(sent, time.monotonic(), row, None, None, repr(error))
                with self._lock:
                    self.answers.append(got)

    def __enter__(self) -> Traffic:
        for offset in range(self.clients):
            thread = threading.Thread(target=self._client, args=(offset,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def since(self, moment: float) -> list[Answer]:
        """The answers to requests sent after ``moment``."""
        with self._lock:
            return [answer for answer in self.answers if answer.sent > moment]

    def wait(self, condition: Callable[[list[Answer]], bool], timeout: float) -> bool:
        """Wait until ``condition(answers so far)`` holds; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                answers = list(self.answers)
            if condition(answers):
                return True
            self._stop.wait(0.05)
        return False


def expected(url: str, version: str, row: int) -> str:
    """The Location of ``/m/ROW`` in map version ``version``."""
    return f"{url}/{version}/{row}"


def versions_of(url: str, answer: Answer, versions: tuple[str, ...]) -> str | None:
    """Which whole map version gave ``answer`` (None: none of them did)."""
    for version in versions:
        if answer.status == 301 and answer.location == expected(url, version, answer.row):
            return version
    return None


def good_run(url: str, answers: list[Answer], versions: tuple[str, ...], since: float,
             length: float) -> bool:  # fmt: skip
    """Whether the answers sent during ``length`` seconds after ``since`` all came whole
    from one of ``versions`` (and the run is that long)."""
    window = [a for a in answers if a.sent > since]
    if not window or window[-1].sent - window[0].sent < length:
        return False
    return all(versions_of(url, a, versions) is not None for a in window)
