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

from tests.admin_servers import admin_session, csrf, gunicorn, import_csv, prepare, site_env
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


def _ask(url: str) -> tuple[str, str, float, float]:
    """(worker pid, Location, when sent, when answered) for GET /start on a fresh connection.

    Both times: under load a poller thread may read its answer well after the worker gave
    it, so an answer is known to come after another only if it was sent after that one
    was received.
    """
    sent = time.monotonic()
    answer = requests.get(
        f"{url}/start", allow_redirects=False, headers={"Connection": "close"}, timeout=30
    )
    location = answer.headers.get("Location", "")
    return answer.headers["X-Worker-Pid"], location, sent, time.monotonic()


def test_an_admin_import_reaches_every_worker_together(database: str) -> None:
    env = site_env(database, INTERVAL)
    prepare(env)
    with gunicorn(env, WORKERS) as server:
        session = admin_session(server.url)
        first = import_csv(session, server.url, FIRST, accept_warnings=True)
        assert "Imported redirects.csv: 2 rows added, 0 replaced." in first.text, first.text
        old, new = f"{server.url}/end1", f"{server.url}/end2"
        answers: list[tuple[str, str, float, float]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                answer = _ask(server.url)
                with lock:
                    answers.append(answer)

        def seen(location: str) -> set[str]:
            with lock:
                return {pid for pid, loc, _, _ in answers if loc == location}

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
                second = import_csv(session, server.url, SECOND, follow=False, accept_warnings=True)
                # Answered just after the commit: no worker can have switched before `sent`,
                # and any old answer after `committed` is at least that late.
                committed = time.monotonic()
                assert second.status_code == 302, second.text
                deadline = time.monotonic() + SWITCH_DEADLINE
                while not seen(old) <= seen(new) and time.monotonic() < deadline:
                    stop.wait(0.05)
                # A little longer, for a late old answer to show.
                stop.wait(INTERVAL)
            finally:
                stop.set()
                for poller in pollers:
                    poller.result()
        listing = session.get(f"{server.url}/admin/redirectware/redirect/", timeout=30)
    assert "1 rows added, 1 replaced." in listing.text, listing.text
    # Every worker that had the old rows answered with the new ones (a worker gunicorn
    # replaced meanwhile starts with the new rows and is no exception).
    assert seen(old) <= seen(new), (seen(old), seen(new))
    locations = {loc for _, loc, start, _ in answers if start > ready}
    assert locations <= {old, new}, locations - {old, new}
    # An old answer to a request sent after the import was answered came late.
    late = [end - committed for _, loc, start, end in answers if loc == old and start > committed]
    assert max(late, default=0) <= INTERVAL + COMPILE_ALLOWANCE, max(late)
    at_most = max((end - sent for _, loc, _, end in answers if loc == old), default=0)
    for pid in seen(new):
        # Once a worker has the new rules it keeps them: a request sent after one of its
        # new answers came back gets the new rules too.
        mine = [(start, end, loc) for p, loc, start, end in answers if p == pid]
        switched = min(end for _, end, loc in mine if loc == new)
        assert all(loc == new for start, _, loc in mine if start > switched)
    kind = database.split(":")[0]
    print(f"\n{kind}: the last /end1 came {max(late, default=0):.2f}s after the import's "
          f"answer, {at_most:.2f}s after it was sent; {len(answers)} requests")  # fmt: skip


def _served(url: str) -> tuple[int, str]:
    """What ``url`` answers once the worker has the new rows (its reload interval)."""
    deadline = time.monotonic() + SWITCH_DEADLINE
    while True:
        answer = requests.get(url, allow_redirects=False, timeout=30)
        if "Location" in answer.headers or time.monotonic() > deadline:
            return answer.status_code, answer.headers.get("Location", "")
        threading.Event().wait(0.05)


def _add(session: requests.Session, url: str, **fields: str) -> requests.Response:
    page = f"{url}/admin/redirectware/redirect/add/"
    token = csrf(session.get(page, timeout=30).text)
    form = {"csrfmiddlewaretoken": token, "enabled": "on", "permanent": "unknown", **fields}
    return session.post(page, data=form, timeout=30)


def test_the_admin_over_http_warns_refuses_reports_and_exports(tmp_path: Path) -> None:
    env = site_env(f"sqlite:{tmp_path / 'db.sqlite3'}")
    prepare(env)
    with gunicorn(env, 1) as server:
        session = admin_session(server.url)
        assert "was added successfully" in _add(session, server.url, from_path="/b", to="/c").text
        # A chain is a warning: not saved until accepted.
        warned = _add(session, server.url, from_path="/a", to="/b")
        assert "The redirect from /a leads to another redirect" in warned.text, warned.text
        assert "Tick “Save despite the warnings” to save the row anyway." in warned.text
        accepted = _add(session, server.url, from_path="/a", to="/b", accept_warnings="on")
        assert "was added successfully" in accepted.text, accepted.text
        # The list says what explain says, asked at this server: the chain collapsed into
        # one redirect, to the Location the server itself then sends.
        assert f"GET {server.url}/a: 301 to {server.url}/c" in accepted.text, accepted.text
        assert "2 hops collapsed into one" in accepted.text
        assert _served(f"{server.url}/a") == (301, f"{server.url}/c")
        # A duplicate is refused in plain words, by the field to correct.
        duplicate = _add(session, server.url, from_path="/a", to="/elsewhere")
        assert "Another redirect already starts at /a (it goes to /b)" in duplicate.text, (
            duplicate.text
        )
        # "Permanent" says what its empty choice means.
        form = session.get(f"{server.url}/admin/redirectware/redirect/add/", timeout=30).text
        assert '<option value="unknown" selected>Rule&#x27;s default</option>' in form, form
        assert "The rule&#x27;s default is now permanent (301, or 308)." in form, form
        # So does the list's filter.
        listing = session.get(f"{server.url}/admin/redirectware/redirect/", timeout=30).text
        for label in ("Yes, permanent", "No, temporary", "Rule&#x27;s default"):
            assert f"{label}</a></li>" in listing, listing
        # An import with bad rows: every one named by its line, nothing written.
        bad = import_csv(session, server.url, "from,to\n/x,/y\nnope,/z\n/w,/v,extra\n")
        assert "redirects.csv:3: from must be a path starting with a single" in bad.text
        assert "redirects.csv:4: expected 2 columns, got 3" in bad.text
        good = import_csv(session, server.url, "from,to\n/x,/y\nnope,/z\n", keep_good=True)
        assert "1 rows added, 0 replaced; 1 bad rows left out." in good.text, good.text
        export = session.get(f"{server.url}/admin/redirectware/redirect/export/", timeout=30)
    assert export.headers["Content-Disposition"] == 'attachment; filename="redirects.csv"'
    assert export.text == "from,to,permanent,status\n/a,/b,,\n/b,/c,,\n/x,/y,,\n"
