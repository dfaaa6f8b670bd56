"""Versions under gunicorn with 3 workers on PostgreSQL: a draft is not served before it is
published, and a rollback reaches every worker within the reload interval, with no mixed
answers.

The table goes through two CSV imports: version 1 makes ``/start -> /mid1 -> /end1`` (one
redirect to /end1), version 2 ``/start -> /mid2 -> /end2``. A draft then points /start at
/drafted: no worker may answer it. "Roll back to version 1" in the admin publishes version
1's rows as version 3: every answer for /start is then /end2 or /end1 (a worker that saw
half the rollback would send /mid1 or /mid2), and every worker answers /end1 within the
interval plus a compile's time.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import pytest
import requests

from tests.admin_servers import admin_session, csrf, gunicorn, import_csv, manage, prepare, site_env
from tests.postgres import postgres

pytestmark = pytest.mark.servers

WORKERS = 3
INTERVAL = 1.0
#: Beyond the interval: the compile, the reload thread, 2 shared busy cores.
COMPILE_ALLOWANCE = 2.0
SWITCH_DEADLINE = 30.0
FIRST = "from,to\n/start,/mid1\n/mid1,/end1\n"
SECOND = "from,to\n/start,/mid2\n/mid2,/end2\n"

Answer = tuple[str, str, float, float]  # worker pid, Location, sent, answered


def _ask(url: str) -> Answer:
    sent = time.monotonic()
    answer = requests.get(
        f"{url}/start", allow_redirects=False, headers={"Connection": "close"}, timeout=30
    )
    return (
        answer.headers["X-Worker-Pid"],
        answer.headers.get("Location", ""),
        sent,
        time.monotonic(),
    )


class Pollers:
    """Threads asking for /start without pause; every answer kept."""

    def __init__(self, url: str, count: int) -> None:
        self.url = url
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._poll) for _ in range(count)]

    def _poll(self) -> None:
        while not self.stop.is_set():
            answer = _ask(self.url)
            with self.lock:
                self.answers.append(answer)

    def __enter__(self) -> Pollers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def seen(self, location: str, after: float = 0.0) -> set[str]:
        """The workers that answered ``location`` to a request sent after ``after``."""
        with self.lock:
            return {pid for pid, loc, sent, _ in self.answers if loc == location and sent > after}

    def wait_for(self, test: Callable[[], bool], deadline: float = SWITCH_DEADLINE) -> None:
        """Until ``test()`` holds (or the deadline passes: the asserts after say what)."""
        end = time.monotonic() + deadline
        while not test() and time.monotonic() < end:
            self.stop.wait(0.05)


def test_a_draft_waits_and_a_rollback_reaches_every_worker_together() -> None:
    with postgres() as cluster:
        env = {**site_env(cluster.spec, INTERVAL), "ADMIN_SITE_REVIEW": "1"}
        prepare(env)
        with gunicorn(env, WORKERS) as server:
            session = admin_session(server.url)
            import_csv(session, server.url, FIRST, accept_warnings=True)
            import_csv(session, server.url, SECOND, accept_warnings=True)
            url = server.url
            end1, end2, drafted = f"{url}/end1", f"{url}/end2", f"{url}/drafted"
            with Pollers(url, WORKERS * 2) as polled:
                polled.wait_for(lambda: len(polled.seen(end2)) == WORKERS)
                assert len(polled.seen(end2)) == WORKERS, polled.answers[-20:]

                # A draft: the /start row pointed at /drafted in the admin.
                listing = session.get(f"{url}/admin/redirectware/redirect/?q=/start", timeout=30)
                found = re.search(r'href="/admin/redirectware/redirect/(\d+)/change/', listing.text)
                assert found is not None, listing.text[:3000]
                page = f"{url}/admin/redirectware/redirect/{found[1]}/change/"
                form = {"csrfmiddlewaretoken": csrf(session.get(page, timeout=30).text),
                        "from_path": "/start", "to": "/drafted", "permanent": "unknown",
                        "enabled": "on", "accept_warnings": "on", "_save": "Save"}  # fmt: skip
                saved = session.post(page, data=form, timeout=30)
                assert "Saved into the draft" in saved.text, saved.text[:3000]
                drafted_at = time.monotonic()
                # Long enough for every worker to reload twice: none serves the draft.
                polled.stop.wait(2 * INTERVAL + COMPILE_ALLOWANCE)
                assert polled.seen(drafted) == set()
                assert len(polled.seen(end2, after=drafted_at)) == WORKERS

                # Roll back to version 1 through the admin.
                rollback = f"{url}/admin/redirectware/tableversion/rollback/1/"
                token = csrf(session.get(rollback, timeout=30).text)
                sent = time.monotonic()
                done = session.post(rollback, data={"csrfmiddlewaretoken": token},
                                    allow_redirects=False, timeout=30)  # fmt: skip
                committed = time.monotonic()
                assert done.status_code == 302, done.text[:2000]
                polled.wait_for(lambda: polled.seen(end1, after=committed) >= polled.seen(end2))
                polled.stop.wait(INTERVAL)  # a little longer, for a late old answer to show
            answers = polled.answers
        versions = manage(env, "redirectware_versions")
    # Every worker switched; the only answers were the old and the new.
    assert polled.seen(end2) <= polled.seen(end1, after=committed)
    after_draft = {loc for _, loc, start, _ in answers if start > drafted_at}
    assert after_draft <= {end1, end2}, after_draft - {end1, end2}
    late = [end - committed for _, loc, start, end in answers if loc == end2 and start > committed]
    assert max(late, default=0) <= INTERVAL + COMPILE_ALLOWANCE, max(late)
    for pid in polled.seen(end1, after=committed):
        mine = [(start, end, loc) for p, loc, start, end in answers if p == pid]
        switched = min(end for start, end, loc in mine if loc == end1 and start > sent)
        assert all(loc == end1 for start, _, loc in mine if start > switched)
    lines = versions.splitlines()
    assert lines[0].split()[0] == "draft", versions
    assert (
        lines[1].split()[0] == "3" and "live" in lines[1] and "roll back to version 1" in lines[1]
    )
    print(f"\nrollback: the last /end2 came {max(late, default=0):.2f}s after the rollback's "
          f"answer; {len(answers)} requests")  # fmt: skip
