"""Hit counts and the 404 tally through the plain ASGI and WSGI middleware (and Flask), given
a Django database: the same tables, the same settings' names, the same keys as the Django
middleware's, on the test site's SQLite file.

Several gunicorn workers on PostgreSQL are in tests/test_plain_stats_servers.py.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.django_site import configure
from tests.waiting import wait_for

configure()

from django.core.checks import run_checks  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import path  # noqa: E402
from flask import Flask  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from redirectware.asgi import RedirectMiddleware  # noqa: E402
from redirectware.counting import flush_all_hits  # noqa: E402
from redirectware.django.models import Redirect  # noqa: E402
from redirectware.django.stats import NotFound, RuleHits, hit_counts  # noqa: E402
from redirectware.engine.decision import Decision  # noqa: E402
from redirectware.flask import Redirectware  # noqa: E402
from redirectware.ruleset import RuleSet  # noqa: E402
from redirectware.settings_values import SettingValueError  # noqa: E402
from redirectware.wsgi import WSGIRedirectMiddleware  # noqa: E402
from tests.stats_tables import tables  # noqa: E402, F401  (the autouse fixture)

DOCUMENT: dict[str, Any] = {
    "version": 1,
    "rules": [
        {"name": "old-blog", "from": "/blog/{slug}", "to": "/articles/{slug}"},
        {"name": "editors", "map": {"database": "default"}, "permanent": True},
    ],
}
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
LINK = "https://old.example/links"
#: The same three paths as sent, whichever adapter sees them: plain ASCII, UTF-8 (``é``), and
#: a byte that is not UTF-8 (Latin-1 ``é``), which stays ``%E9`` as Django's request.path has it.
LOST = {"/lost": "/lost", "/caf%C3%A9": "/café", "/caf%E9": "/caf%E9"}


def _starlette() -> Starlette:
    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse("home")

    # Any other path is Starlette's own 404.
    return Starlette(routes=[Route("/", home, methods=["GET", "POST"])])


def _flask() -> Flask:
    app = Flask("plain_stats")
    app.add_url_rule("/", "home", lambda: "home", methods=["GET", "POST"])
    return app


def _stored() -> dict[str, Any]:
    """What the tables hold: the rules', the rows' and the 404s' counts."""
    rows = {row.from_path: row.hits for row in Redirect.objects.all()}
    return {
        "rules": dict(RuleHits.objects.values_list("name", "hits")),
        "rows": rows,
        "lost": {
            item.path: (item.hits, round(item.bot_share, 3), item.referrers)
            for item in NotFound.objects.all()
        },
    }


#: What every adapter must have written after :func:`_ask` and a flush.
EXPECTED = {
    "rules": {"editors": 3, "old-blog": 2},
    "rows": {"/old": 3, "/other": 0},
    "lost": {
        "/lost": (5, 0.2, [{"referrer": LINK, "hits": 4}]),
        "/café": (1, 0.0, []),
        "/caf%E9": (1, 0.0, []),
        "/head-only": (1, 0.0, []),
    },
}


def _ask(get: Any, post: Any, head: Any) -> None:
    """The same requests through any client: 3 hits of a row (one a POST), 2 of a file rule,
    404s from browsers with a referrer and from a crawler, and 404s that are not tallied."""
    assert get("/old").status_code == 301
    assert get("/old").status_code == 301
    assert post("/old").status_code == 308
    assert get("/blog/a").status_code == 302
    assert get("/blog/b").status_code == 302
    for _ in range(4):
        assert get("/lost", headers={"Referer": LINK, "User-Agent": BROWSER}).status_code == 404
    assert get("/lost", headers={"User-Agent": CRAWLER}).status_code == 404
    assert get("/caf%C3%A9").status_code == 404
    assert get("/caf%E9").status_code == 404
    assert head("/head-only").status_code == 404
    # A form sent to a lost page is no link to repair; an answer that is no 404 is no 404.
    assert post("/posted-to").status_code in (404, 405)
    assert get("/").status_code == 200


def _home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("home")


urlpatterns = [path("", _home)]


def _rows() -> None:
    Redirect.objects.create(from_path="/old", to="/new")
    Redirect.objects.create(from_path="/other", to="/elsewhere")


def test_asgi_under_starlette_counts_hits_and_tallies_404s_into_the_tables() -> None:
    _rows()
    app = RedirectMiddleware(_starlette(), DOCUMENT, stats="default", stats_flush=3600)
    with TestClient(app, base_url="http://example.com") as client:

        def call(method: str) -> Any:
            def go(path: str, headers: dict[str, str] | None = None) -> Any:
                return client.request(method, path, headers=headers, follow_redirects=False)

            return go

        _ask(call("GET"), call("POST"), call("HEAD"))
    flush_all_hits()
    assert _stored() == EXPECTED


def test_wsgi_under_flask_counts_the_same_with_the_same_setting_names() -> None:
    _rows()
    app = _flask()
    app.config.update(
        REDIRECTWARE=DOCUMENT,
        REDIRECTWARE_STATS="default",
        REDIRECTWARE_STATS_FLUSH="3600",  # as the environment gives it
        REDIRECTWARE_NOT_FOUND_KEEP=50,
    )
    Redirectware(app)
    client = app.test_client()

    def call(method: str) -> Any:
        def go(path: str, headers: dict[str, str] | None = None) -> Any:
            return client.open(
                path, method=method, headers={"Host": "example.com", **(headers or {})}
            )

        return go

    # Flask's test client runs the app on this thread: no query may run for a request.
    with CaptureQueriesContext(connection) as queries:
        _ask(call("GET"), call("POST"), call("HEAD"))
    assert len(queries) == 0, [query["sql"] for query in queries]
    flush_all_hits()
    assert _stored() == EXPECTED


def test_the_django_middleware_keys_404s_as_the_plain_ones_do() -> None:
    _rows()
    plain_404s = {"ROOT_URLCONF": __name__}  # "/" answers; anything else is Django's 404
    with override_settings(REDIRECTWARE=DOCUMENT, REDIRECTWARE_STATS="default", **plain_404s):
        client = Client(HTTP_HOST="example.com")

        def call(method: str) -> Any:
            def go(path: str, headers: dict[str, str] | None = None) -> Any:
                return client.generic(method, path, headers=headers)

            return go

        _ask(call("GET"), call("POST"), call("HEAD"))
        flush_all_hits()
    assert _stored() == EXPECTED


def test_wsgi_sees_an_editor_s_change_without_reload() -> None:
    """The row source's watch: a row added after start-up answers once the table's version
    is read again (once per ``reload_interval``), as under the Django middleware."""
    Redirect.objects.create(from_path="/first", to="/one")
    app = _flask()
    app.wsgi_app = WSGIRedirectMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, DOCUMENT, reload_interval=0.05
    )
    client = app.test_client()
    assert client.get("/first", headers={"Host": "example.com"}).status_code == 301
    assert client.get("/added", headers={"Host": "example.com"}).status_code == 404
    Redirect.objects.create(from_path="/added", to="/two")

    def answered() -> bool:
        answer = client.get("/added", headers={"Host": "example.com"})
        return answer.status_code == 301 and answer.headers["Location"].endswith("/two")

    wait_for(answered, timeout=30)


def test_a_flush_that_fails_halfway_writes_nothing_and_counts_once_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The rules' hits and the 404s go in one transaction: with the 404 table gone, the
    rules' hits are not written either, and the next flush writes them once."""
    ruleset = RuleSet.load(DOCUMENT)
    counts = hit_counts(None, 3600, keep=10)
    for _ in range(7):
        counts.answered(Decision("redirect", 302, rule=ruleset.rules[0]))
    assert counts.not_found_paths is not None
    counts.not_found_paths.add("/lost", LINK, BROWSER)
    table = NotFound._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
    try:
        with caplog.at_level(logging.ERROR, logger="redirectware"):
            counts.flush()
        assert "could not write hit counts" in caplog.text
        assert RuleHits.objects.count() == 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')
    counts.flush()
    assert dict(RuleHits.objects.values_list("name", "hits")) == {"old-blog": 7}
    assert list(NotFound.objects.values_list("path", "hits")) == [("/lost", 1)]
    counts.flush()  # nothing new: nothing added
    assert RuleHits.objects.get(name="old-blog").hits == 7


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"stats": "nosuchdb"}, ["'nosuchdb'", "settings.DATABASES", "'default'"]),
        ({"stats": ""}, ["stats must be true, false or a database alias"]),
        ({"stats": 3}, ["stats must be true, false or a database alias"]),
        ({"stats": True, "stats_flush": 0}, ["stats_flush must be a number of seconds above 0"]),
        ({"stats": True, "stats_flush": "soon"}, ["stats_flush", "'soon'"]),
        ({"stats": True, "stats_flush": float("inf")}, ["stats_flush", "inf"]),
        ({"stats": True, "stats_flush": True}, ["stats_flush", "True"]),
        ({"stats": True, "not_found_keep": -1}, ["not_found_keep must be a whole number"]),
        ({"stats": True, "not_found_keep": 1.5}, ["not_found_keep", "1.5"]),
    ],
)
def test_a_bad_stats_option_is_refused_at_start_up(
    options: dict[str, Any], words: list[str]
) -> None:
    for build in (
        lambda: RedirectMiddleware(_starlette(), DOCUMENT, **options),
        lambda: WSGIRedirectMiddleware(_flask().wsgi_app, DOCUMENT, **options),
    ):
        with pytest.raises(SettingValueError) as raised:
            build()
        for word in words:
            assert word in str(raised.value), (word, str(raised.value))


def test_flask_names_its_config_key_in_the_error() -> None:
    app = _flask()
    app.config.update(REDIRECTWARE=DOCUMENT, REDIRECTWARE_STATS=True, REDIRECTWARE_STATS_FLUSH=-5)
    with pytest.raises(SettingValueError, match=r"app.config\['REDIRECTWARE_STATS_FLUSH'\]"):
        Redirectware(app)
    assert "redirectware" not in app.extensions


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"REDIRECTWARE_STATS": "nosuchdb"}, ["'nosuchdb'", "not a database"]),
        ({"REDIRECTWARE_STATS": True, "REDIRECTWARE_STATS_FLUSH": "soon"}, ["'soon'"]),
        ({"REDIRECTWARE_STATS": True, "REDIRECTWARE_NOT_FOUND_KEEP": -1}, ["-1"]),
        ({"REDIRECTWARE_STATS": ["default"]}, ["true, false or a database alias"]),
    ],
)
def test_django_stats_settings_are_checked_as_e008(
    settings: dict[str, Any], words: list[str]
) -> None:
    with override_settings(REDIRECTWARE=DOCUMENT, **settings):
        found = [m for m in run_checks() if m.id == "redirectware.E008"]
        assert len(found) == 1, found
        for word in words:
            assert word in found[0].msg, (word, found[0].msg)
        with pytest.raises(ImproperlyConfigured, match=r"redirectware\.E008"):
            Client().get("/")


def test_without_a_tally_the_app_is_not_wrapped() -> None:
    """``not_found_keep=0``: hit counts only, and the app is called as it is (a pass-through
    then costs what it does without counting)."""
    starlette = _starlette()
    counted = RedirectMiddleware(starlette, DOCUMENT, stats=True, not_found_keep=0)
    assert counted.app is starlette
    tallied = RedirectMiddleware(starlette, DOCUMENT, stats=True)
    assert tallied.app is not starlette
    flask = _flask()
    assert WSGIRedirectMiddleware(flask.wsgi_app, DOCUMENT, stats=True, not_found_keep=0).app == (
        flask.wsgi_app
    )


def test_stats_and_prometheus_metrics_count_side_by_side() -> None:
    """Hit counts stand in front of the metrics: both see every answer and every 404."""
    from prometheus_client import CollectorRegistry

    from redirectware.metrics import Metrics

    _rows()
    registry = CollectorRegistry()
    app = RedirectMiddleware(_starlette(), DOCUMENT, metrics=Metrics(registry), stats="default")
    with TestClient(app, base_url="http://example.com") as client:
        assert client.get("/old", follow_redirects=False).status_code == 301
        assert client.get("/blog/x", follow_redirects=False).status_code == 302
        assert client.get("/lost").status_code == 404
        assert client.get("/").status_code == 200

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("redirectware_answers_total", rule="editors", status="301") == 1
    assert sample("redirectware_answers_total", rule="old-blog", status="302") == 1
    assert sample("redirectware_passed_total") == 2
    assert sample("redirectware_not_found_total") == 1
    flush_all_hits()
    stored = _stored()
    assert stored["rules"] == {"editors": 1, "old-blog": 1}
    assert stored["lost"] == {"/lost": (1, 0.0, [])}
