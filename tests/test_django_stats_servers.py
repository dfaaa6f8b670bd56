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
from typing import Any

import pytest
import requests

from tests.admin_servers import gunicorn, manage, prepare, site_env
from tests.postgres import postgres
from tests.waiting import wait_for

pytestmark = pytest.mark.servers

WORKERS = 3
HITS = 150
FLUSH = "0.5"


def _stale(env: dict[str, str]) -> dict[str, Any]:
    """Every rule and row with its totals: nothing has a hit after 2100."""
    report: dict[str, Any] = json.loads(
        manage(env, "redirectware_stale", "--since", "2100-01-01", "--json")
    )
    return report


def _totals(env: dict[str, str]) -> dict[str, int]:
    report = _stale(env)
    totals = {f"rule {rule['name']}": rule["hits"] for rule in report["rules"]}
    totals.update({f"row {row['from']}": row["hits"] for row in report["rows"]})
    return totals


def _ask(url: str) -> tuple[int, str]:
    answer = requests.get(url, allow_redirects=False, headers={"Connection": "close"}, timeout=30)
    return answer.status_code, answer.headers["X-Worker-Pid"]


def test_hits_from_three_workers_add_up_exactly_on_postgresql() -> None:
    with postgres() as cluster:
        env = {**site_env(cluster.spec), "ADMIN_SITE_STATS_FLUSH": FLUSH}
        prepare(env)
        manage(
            env,
            "shell",
            "-c",
            "from redirectware.django.models import Redirect; "
            "Redirect.objects.create(from_path='/old', to='/new')",
        )
        assert _totals(env) == {"rule file-rule": 0, "rule editors": 0, "row /old": 0}
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
                seen.append(_totals(env))
                return seen[-1] == expected

            wait_for(flushed, timeout=90)
        # The workers' exit flushes had nothing left to add.
        assert _totals(env) == expected
        # A day after every hit: nothing is stale; the rows' hits moved their last hit.
        recent = json.loads(manage(env, "redirectware_stale", "--since", "2000-01-01", "--json"))
        assert recent["rules"] == [] and recent["rows"] == [], recent
