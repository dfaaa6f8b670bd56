"""Edits in the admin reach every gunicorn worker together, on SQLite and on PostgreSQL.

The site (tests/admin_site) serves ``map: {database: default}`` with a reload interval of
1 s. The table starts as the chain ``/start -> /mid1 -> /end1`` (one redirect to /end1).
One CSV import through the admin makes it ``/start -> /mid2 -> /end2`` in one transaction
(one row changed, one added). Every answer for /start is then /end1 or /end2: a worker that
saw half the change would send /mid2 (the new first row without its second) or /mid1. And
no worker answers /end1 later than the interval plus a compile's time after the import.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.admin_servers import admin_session, gunicorn, import_csv, prepare, site_env
from tests.postgres import postgres

pytestmark = pytest.mark.servers

WORKERS = 3
INTERVAL = 1.0
#: What a worker may take beyond the interval to switch: the compile (milliseconds for these
#: rows), starting its thread, and being scheduled on 2 shared, busy cores.
COMPILE_ALLOWANCE = 2.0
#: How long the test polls after the import for every worker to answer with the new rules.
SWITCH_DEADLINE = 30.0
FIRST = "from,to\n/start,/mid1\n/mid1,/end1\n"
SECOND = "from,to\n/start,/mid2\n/mid2,/end2\n"


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, as tests/admin_site's ADMIN_SITE_DB spells it."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'db.sqlite3'}"
        return
    with postgres() as cluster:
        yield cluster.spec


def _ask(url: str) -> tuple[str, str, float]:
    """(worker pid, Location, when) for GET /start on a fresh connection."""
    answer = requests.get(
        f"{url}/start", allow_redirects=False, headers={"Connection": "close"}, timeout=30
    )
    return answer.headers["X-Worker-Pid"], answer.headers.get("Location", ""), time.monotonic()


def test_an_admin_import_reaches_every_worker_together(database: str) -> None:
    env = site_env(database, INTERVAL)
    prepare(env)
    with gunicorn(env, WORKERS) as server:
        session = admin_session(server.url)
        first = import_csv(session, server.url, FIRST, accept_warnings=True)
        assert "Imported redirects.csv: 2 rows added, 0 replaced." in first.text, first.text
        old, new = f"{server.url}/end1", f"{server.url}/end2"
        answers: list[tuple[str, str, float]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                answer = _ask(server.url)
                with lock:
                    answers.append(answer)

        def seen(location: str) -> set[str]:
            with lock:
                return {pid for pid, loc, _ in answers if loc == location}

        with ThreadPoolExecutor(WORKERS * 2) as pool:
            pollers = [pool.submit(poll) for _ in range(WORKERS * 2)]
            try:
                deadline = time.monotonic() + SWITCH_DEADLINE
                while len(seen(old)) < WORKERS and time.monotonic() < deadline:
                    stop.wait(0.05)
                assert len(seen(old)) == WORKERS, answers[-20:]
                # From here on every worker has the first rows: only /end1 and /end2 are right.
                ready = time.monotonic()
                sent = time.monotonic()
                second = import_csv(session, server.url, SECOND, accept_warnings=True)
                assert "1 rows added, 1 replaced." in second.text, second.text
                deadline = time.monotonic() + SWITCH_DEADLINE
                while len(seen(new)) < WORKERS and time.monotonic() < deadline:
                    stop.wait(0.05)
                # A little longer, for a late old answer to show.
                stop.wait(INTERVAL)
            finally:
                stop.set()
                for poller in pollers:
                    poller.result()
    assert len(seen(new)) == WORKERS, answers[-20:]
    locations = {loc for _, loc, when in answers if when > ready}
    assert locations <= {old, new}, locations - {old, new}
    late = [when - sent for _, loc, when in answers if loc == old and when > sent]
    assert max(late, default=0) <= INTERVAL + COMPILE_ALLOWANCE, max(late)
    for pid in seen(new):
        # Once a worker has the new rules it keeps them.
        times = [(when, loc) for p, loc, when in answers if p == pid]
        switched = min(when for when, loc in times if loc == new)
        assert all(loc == new for when, loc in times if when > switched)
    print(f"\n{database.split(':')[0]}: slowest worker answered /end1 {max(late, default=0):.2f}s "
          f"after the import was sent; {len(answers)} requests")  # fmt: skip
