"""Hit counts and the 404 tally of the plain ASGI and WSGI middleware, on real servers.

tests/admin_site served through ``redirectware.asgi.RedirectMiddleware`` (gunicorn with 3
uvicorn workers) and ``redirectware.wsgi.WSGIRedirectMiddleware`` (gunicorn with 3 sync
workers), with ``stats="default"`` on PostgreSQL and Django's own middleware left out
(``ADMIN_SITE_PLAIN=1``): every hit of a rule and of a row is counted exactly once, the
app's 404s to GET are tallied by path with their referrer and crawler share (a POST's are
not), and a row an editor adds reaches the workers. Then the start-up errors: a database
alias Django does not know, and counting where Django is not set up.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
import requests

from tests.admin_servers import (
    ROOT,
    add_rows,
    csrf,
    gunicorn,
    hit_totals,
    manage,
    prepare,
    site_env,
)
from tests.postgres import Cluster, postgres
from tests.servers import GUNICORN, UVICORN, ServerError, serve
from tests.waiting import wait_for

pytestmark = pytest.mark.servers

WORKERS = 3
HITS = 150
#: Pages the app answers itself, asked among the redirects: their X-Worker-Pid says which
#: workers served (the middleware's own redirects do not carry it).
PAGES = 60
FLUSH = "0.5"
#: How many fresh connections in a row must see an added row before every worker is
#: taken to have it.
STREAK = 30
REFERRER = "https://old.example/links"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CRAWLER = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
MISSING = "/old-docs/getting-started"
POSTED = "/old-docs/sent-a-form"
#: ``module:attribute`` and gunicorn's worker class of each way of serving the site.
SERVED = {
    "asgi": ("tests.admin_site.plain_asgi:application", "uvicorn.workers.UvicornWorker"),
    "wsgi": ("tests.admin_site.plain_wsgi:application", "sync"),
}

T = TypeVar("T")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """One PostgreSQL server for the module; each test makes a database of its own."""
    with postgres() as running:
        yield running


def _database(cluster: Cluster, name: str) -> str:
    """A new database ``name`` on ``cluster``: its ``ADMIN_SITE_DB`` value."""
    with psycopg.connect(
        host=cluster.host, port=cluster.port, user="postgres", dbname=cluster.name, autocommit=True
    ) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return Cluster(cluster.host, cluster.port, name).spec


def _settles(read: Callable[[], T], expected: T, timeout: float = 90) -> None:
    """Wait until ``read()`` gives ``expected``; else fail showing what it gave last."""
    seen: list[T] = []

    def done() -> bool:
        seen.append(read())
        return seen[-1] == expected

    try:
        wait_for(done, timeout=timeout)
    except AssertionError:
        assert seen[-1] == expected
        raise


def _not_found(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The 404 table, by path."""
    out = manage(
        env,
        "shell",
        "-c",
        "import json; from redirectware.django.stats import NotFound; "
        "print(json.dumps(list(NotFound.objects.values('path', 'hits', 'bot_share', "
        "'referrers'))))",
    )
    rows: list[dict[str, Any]] = json.loads(out.splitlines()[-1])  # after what it imported
    return {row["path"]: row for row in rows}


def _ask(url: str, **headers: str) -> tuple[int, str | None, str | None]:
    """GET ``url`` on a connection of its own: the status, Location and X-Worker-Pid."""
    answer = requests.get(
        url,
        allow_redirects=False,
        headers={"Connection": "close", **headers},
        timeout=30,
    )
    return answer.status_code, answer.headers.get("Location"), answer.headers.get("X-Worker-Pid")


def _every_hit_once(env: dict[str, str], url: str) -> None:
    """N requests for a row and N for a file rule, from several workers, add up to N each."""
    urls = [f"{url}/old", f"{url}/loop-back"] * HITS + [f"{url}/a-page"] * PAGES
    with ThreadPoolExecutor(WORKERS * 2) as pool:
        answers = list(pool.map(_ask, urls))
    by_path = Counter(
        (address.removeprefix(url), status, location, pid is not None)
        for address, (status, location, pid) in zip(urls, answers, strict=True)
    )
    # The middleware answered the redirects itself (Django's would add X-Worker-Pid).
    assert by_path == {
        ("/old", 301, f"{url}/new", False): HITS,
        ("/loop-back", 302, f"{url}/looped", False): HITS,
        ("/a-page", 200, None, True): PAGES,
    }
    # The counts to add up come from several processes.
    assert len({pid for _, _, pid in answers if pid is not None}) > 1, answers
    _settles(
        lambda: hit_totals(env), {"rule file-rule": HITS, "rule editors": HITS, "row /old": HITS}
    )


def _not_found_tallied(env: dict[str, str], url: str) -> str:
    """4 browsers and a crawler GET a missing page, a form is sent to another: only the GETs
    are tallied. Returns a path of a 404 that proves the form's worker flushed."""
    for agent in [BROWSER] * 4 + [CRAWLER]:
        status, _, pid = _ask(f"{url}{MISSING}", **{"User-Agent": agent, "Referer": REFERRER})
        assert (status, pid is not None) == (404, True)  # the site's own 404 view
    session = requests.Session()
    token = csrf(session.get(f"{url}/admin/login/", timeout=30).text)
    sent = session.post(
        f"{url}{POSTED}",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": REFERRER, "User-Agent": BROWSER},
        timeout=30,
    )
    # Past the CSRF check: the view's own 404, not a 403.
    assert (sent.status_code, sent.text) == (404, f"no {POSTED}"), sent.text[:2000]
    # A GET 404 that the same process answered after the form: once its path is in the
    # table, that process has flushed whatever it tallied for the form.
    after: list[str] = []

    def same_worker() -> bool:
        path = f"/old-docs/after-the-form-{len(after)}"
        after.append(path)
        status, _, pid = _ask(f"{url}{path}")
        assert status == 404
        return pid == sent.headers["X-Worker-Pid"]

    wait_for(same_worker, timeout=60)
    marker = after[-1]

    def tallied() -> tuple[bool, int | None]:
        table = _not_found(env)
        return marker in table, table.get(MISSING, {}).get("hits")

    expected: tuple[bool, int | None] = (True, 5)
    _settles(tallied, expected)
    table = _not_found(env)
    missing = table[MISSING]
    assert missing["bot_share"] == pytest.approx(0.2, abs=1e-9), missing
    assert [each["referrer"] for each in missing["referrers"]] == [REFERRER], missing
    assert POSTED not in table, table
    return marker


def _change_seen(env: dict[str, str], url: str) -> int:
    """An editor adds a row: the workers answer it. Returns how many times it answered."""
    status, location, pid = _ask(f"{url}/added")
    assert (status, location, pid is not None) == (200, None, True)  # the app's page
    add_rows(env, ("/added", "/target"))
    target = f"{url}/target"
    answered = Counter[tuple[int, str | None]]()
    streak = [0]

    def seen_everywhere() -> bool:
        status, location, _ = _ask(f"{url}/added")
        answered[status, location] += 1
        streak[0] = streak[0] + 1 if (status, location) == (301, target) else 0
        return streak[0] >= STREAK

    wait_for(seen_everywhere, timeout=90)
    # Before a worker had the row, the app's page; never anything else.
    assert set(answered) <= {(301, target), (200, None)}, answered
    return answered[301, target]


@pytest.mark.parametrize("kind", sorted(SERVED))
def test_plain_middleware_counts_each_hit_once_and_tallies_404s(
    kind: str, cluster: Cluster
) -> None:
    app, worker_class = SERVED[kind]
    env = {
        **site_env(_database(cluster, f"plain_{kind}")),
        "ADMIN_SITE_STATS_FLUSH": FLUSH,
        "ADMIN_SITE_PLAIN": "1",
    }
    prepare(env)
    add_rows(env, ("/old", "/new"))
    assert hit_totals(env) == {"rule file-rule": 0, "rule editors": 0, "row /old": 0}
    with gunicorn(env, WORKERS, app=app, worker_class=worker_class) as server:
        _every_hit_once(env, server.url)
        marker = _not_found_tallied(env, server.url)
        added = _change_seen(env, server.url)
        expected = {
            "rule file-rule": HITS,
            "rule editors": HITS + added,
            "row /old": HITS,
            "row /added": added,
        }
        _settles(lambda: hit_totals(env), expected)
    # The workers' exit flushes had nothing left to add.
    assert hit_totals(env) == expected
    table = _not_found(env)
    assert (table[MISSING]["hits"], table[marker]["hits"]) == (5, 1), table
    assert POSTED not in table, table


# --- start-up errors ---------------------------------------------------------------------------

#: An app without Django: ``stats`` has no database to write to.
_WITHOUT_DJANGO = {
    "asgi": """
from starlette.applications import Starlette
from redirectware.asgi import RedirectMiddleware
application = RedirectMiddleware(Starlette(), rules="rules.yaml", stats="default")
""",
    "wsgi": """
from redirectware.wsgi import WSGIRedirectMiddleware
def page(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]
application = WSGIRedirectMiddleware(page, rules="rules.yaml", stats="default")
""",
}


def _server(kind: str, app: str) -> list[str]:
    """The argv that serves ``app`` (``module:attribute``) the ``kind`` way, on ``{fd}``."""
    if kind == "asgi":
        return [*UVICORN, "--fd", "{fd}", app]
    return [*GUNICORN, "--workers", "1", "--bind", "fd://{fd}", app]


def _fails_to_start(command: list[str], env: dict[str, str], cwd: Path | str, *wanted: str) -> None:
    with pytest.raises(ServerError) as failed, serve(command, env=env, cwd=cwd):
        pass  # not reached: the server must not start
    log = str(failed.value)
    for text in wanted:
        assert text in log, log


@pytest.mark.parametrize("kind", sorted(SERVED))
def test_a_database_django_does_not_know_stops_the_start(kind: str, tmp_path: Path) -> None:
    env = {
        **site_env(f"sqlite:{tmp_path / 'db.sqlite3'}"),
        "ADMIN_SITE_STATS_FLUSH": FLUSH,
        "ADMIN_SITE_PLAIN": "1",
        "ADMIN_SITE_STATS_ALIAS": "nosuchdb",
    }
    # The rows load (the middleware reads them first): the alias is what fails.
    manage(env, "migrate", "--verbosity", "0")
    app = SERVED[kind][0]
    _fails_to_start(
        _server(kind, app),
        env,
        ROOT,
        "stats='nosuchdb' is not a database of settings.DATABASES ('default')",
    )


@pytest.mark.parametrize("kind", sorted(SERVED))
def test_counting_without_django_set_up_stops_the_start(kind: str, tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(
        "version: 1\nrules:\n  - from: /old\n    to: /new\n", encoding="utf-8"
    )
    (tmp_path / "bare_app.py").write_text(_WITHOUT_DJANGO[kind], encoding="utf-8")
    env = {
        "PYTHONPATH": os.pathsep.join((str(ROOT / "src"), str(tmp_path))),
        "DJANGO_SETTINGS_MODULE": "",  # none, whatever this process has
    }
    _fails_to_start(
        _server(kind, "bare_app:application"),
        env,
        tmp_path,
        "stats='default' writes hit counts to a Django database",
        "Django is not set up yet",
    )
