"""Hit counts under gunicorn with 3 workers on PostgreSQL: every hit counted exactly once.

Each worker counts in memory and adds its counts to the database every
``REDIRECTWARE_STATS_FLUSH`` seconds (here 0.5) and at exit. N requests for a redirect row
and N for a rule of the file, spread over the workers on fresh connections, must add up to
exactly N each once the flushes are in: no hit lost to a concurrent flush, none counted
twice, and still N after the workers' exit flushes.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.admin_servers import (
    add_rows,
    admin_session,
    csrf,
    gunicorn,
    hit_totals,
    manage,
    prepare,
    site_env,
)
from tests.postgres import postgres
from tests.waiting import wait_for

pytestmark = pytest.mark.servers

WORKERS = 3
HITS = 150
FLUSH = "0.5"


def _ask(url: str) -> tuple[int, str]:
    answer = requests.get(url, allow_redirects=False, headers={"Connection": "close"}, timeout=30)
    return answer.status_code, answer.headers["X-Worker-Pid"]


def test_hits_from_three_workers_add_up_exactly_on_postgresql() -> None:
    with postgres() as cluster:
        env = {**site_env(cluster.spec), "ADMIN_SITE_STATS_FLUSH": FLUSH}
        prepare(env)
        add_rows(env, ("/old", "/new"))
        assert hit_totals(env) == {"rule file-rule": 0, "rule editors": 0, "row /old": 0}
        with gunicorn(env, WORKERS) as server:
            urls = [f"{server.url}/old", f"{server.url}/loop-back"] * HITS
            with ThreadPoolExecutor(WORKERS * 2) as pool:
                answers = list(pool.map(_ask, urls))
            assert Counter(status for status, _ in answers) == {301: HITS, 302: HITS}
            # The counts to add up come from several processes.
            assert len({pid for _, pid in answers}) > 1, answers
            expected = {"rule file-rule": HITS, "rule editors": HITS, "row /old": HITS}
            seen: list[dict[str, int]] = []

            def flushed() -> bool:
                seen.append(hit_totals(env))
                return seen[-1] == expected

            wait_for(flushed, timeout=90)
        # The workers' exit flushes had nothing left to add.
        assert hit_totals(env) == expected
        # A day after every hit: nothing is stale; the rows' hits moved their last hit.
        recent = json.loads(manage(env, "redirectware_stale", "--since", "2000-01-01", "--json"))
        assert recent["rules"] == [] and recent["rows"] == [], recent


def _action(session: requests.Session, page: str, action: str, ids: list[str]) -> requests.Response:
    token = csrf(session.get(page, timeout=30).text)
    form = {"csrfmiddlewaretoken": token, "action": action, "_selected_action": ids}
    return session.post(page, data=form, timeout=30)


def test_the_admin_lists_hits_filters_stale_rows_and_acts_on_404s(tmp_path: Path) -> None:
    env = {**site_env(f"sqlite:{tmp_path / 'db.sqlite3'}"), "ADMIN_SITE_STATS_FLUSH": FLUSH}
    prepare(env)
    add_rows(env, ("/hit", "/a"), ("/unhit", "/b"))
    with gunicorn(env, 1) as server:
        for _ in range(3):
            assert _ask(f"{server.url}/hit")[0] == 301
        browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Firefox/120.0"}
        for _ in range(4):
            requests.get(f"{server.url}/old-docs/getting-started", headers=browser, timeout=30)
        requests.get(
            f"{server.url}/old-docs/getting-started",
            headers={"User-Agent": "Mozilla/5.0 (compatible; bingbot/2.0)"},
            timeout=30,
        )
        session = admin_session(server.url)
        rows = f"{server.url}/admin/redirectware/redirect/"

        wait_for(lambda: hit_totals(env).get("row /hit") == 3, timeout=60)
        # Sorted by hits, most first (the hits column is the 5th): /hit before /unhit.
        listing = session.get(f"{rows}?o=-5", timeout=30).text
        assert listing.index(">/hit<") < listing.index(">/unhit<"), listing
        never = session.get(f"{rows}?stale=never", timeout=30).text
        assert ">/unhit<" in never and ">/hit<" not in never
        assert "Not hit in 90 days" in never
        # Mark the never-hit row gone: it answers 410 once the workers have the change.
        unhit = _row_id(env, "/unhit")
        done = _action(session, rows, "mark_rows_gone", [unhit])
        assert "1 rows now answer 410 Gone." in done.text, done.text
        wait_for(lambda: requests.get(f"{server.url}/unhit", timeout=30).status_code == 410)
        # The 404s: most hit first, with the crawlers' share and the suggested target.
        found = f"{server.url}/admin/redirectware/notfound/"
        wait_for(lambda: "/old-docs/getting-started" in session.get(found, timeout=30).text)
        page = session.get(found, timeout=30).text
        assert "20%" in page and "/docs/getting-started/" in page, page
        item = _not_found_id(env, "/old-docs/getting-started")
        made = _action(session, found, "create_suggested", [item])
        assert "1 rows now redirect to their suggested target." in made.text, made.text
        wait_for(
            lambda: (
                requests.get(
                    f"{server.url}/old-docs/getting-started", allow_redirects=False, timeout=30
                ).headers.get("Location", "")
                == f"{server.url}/docs/getting-started/"
            )
        )


def _row_id(env: dict[str, str], path: str) -> str:
    return manage(
        env,
        "shell",
        "-c",
        "from redirectware.django.models import Redirect; "
        f"print(Redirect.objects.get(from_path={path!r}).pk)",
    ).split()[-1]  # after what the shell says it imported


def _not_found_id(env: dict[str, str], path: str) -> str:
    return manage(
        env,
        "shell",
        "-c",
        "from redirectware.django.stats import NotFound; "
        f"print(NotFound.objects.get(path={path!r}).pk)",
    ).split()[-1]
