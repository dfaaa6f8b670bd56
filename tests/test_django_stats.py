"""Hit counts and the 404 tally under the Django adapter, on the test site's SQLite file.

Several gunicorn workers on PostgreSQL are in tests/test_django_stats_servers.py.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.django_site import configure

configure()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from redirectware.counting import (  # noqa: E402
    HitBatch,
    HitCounts,
    NotFoundPath,
    NotFoundTally,
    flush_all_hits,
)
from redirectware.django.models import Redirect  # noqa: E402
from redirectware.django.stats import NotFound, RuleHits, write_hits  # noqa: E402
from tests.stats_tables import tables  # noqa: E402, F401  (the autouse fixture)

DOCUMENT: dict[str, Any] = {
    "version": 1,
    "rules": [
        {"name": "old-blog", "from": "/blog/{slug}", "to": "/articles/{slug}"},
        {"name": "editors", "map": {"database": "default"}, "permanent": True},
        {"name": "never", "from": "/never-asked", "to": "/x"},
    ],
}
STATS = {"REDIRECTWARE": DOCUMENT, "REDIRECTWARE_STATS": True, "REDIRECTWARE_STATS_FLUSH": 3600}


def test_hits_are_counted_in_memory_and_added_at_each_flush() -> None:
    row = Redirect.objects.create(from_path="/old", to="/new")
    other = Redirect.objects.create(from_path="/other", to="/elsewhere")
    with override_settings(**STATS):
        client = Client(HTTP_HOST="example.com")
        assert client.get("/old").status_code == 301  # builds the middleware
        with CaptureQueriesContext(connection) as queries:
            for _ in range(4):
                assert client.get("/old").status_code == 301
            for n in range(3):
                assert client.get(f"/blog/{n}").status_code == 302
            assert client.post("/old").status_code == 308
        assert len(queries) == 0, [q["sql"] for q in queries]
        before = datetime.now(timezone.utc)
        flush_all_hits()
        row.refresh_from_db()
        assert row.hits == 6
        assert row.last_hit is not None and before - timedelta(minutes=1) < row.last_hit <= before
        other.refresh_from_db()
        assert (other.hits, other.last_hit) == (0, None)
        counted = dict(RuleHits.objects.values_list("name", "hits"))
        assert counted == {"editors": 6, "old-blog": 3}
        # Increments: a second flush adds to what the first wrote; a flush with nothing new
        # adds nothing.
        client.get("/old")
        flush_all_hits()
        flush_all_hits()
        row.refresh_from_db()
        assert row.hits == 7
        assert RuleHits.objects.get(name="editors").hits == 7


def test_an_edit_leaves_the_counts_alone() -> None:
    row = Redirect.objects.create(from_path="/old", to="/new")
    stale = Redirect.objects.get(pk=row.pk)  # read before the hits are written
    write_hits({("row", "database", "default", row.pk): (5, 1_800_000_000.0)})
    stale.to = "/newer"
    stale.save()
    row.refresh_from_db()
    assert (row.to, row.hits) == ("/newer", 5)
    # And the counts do not bump the table's version: no process compiles again for them.
    from redirectware.django.models import current_version

    version = current_version("default")
    write_hits({("row", "database", "default", row.pk): (1, 1_800_000_001.0)})
    assert current_version("default") == version


def test_a_failed_flush_keeps_its_counts_for_the_next() -> None:
    from redirectware.engine.decision import Decision
    from redirectware.ruleset import RuleSet

    ruleset = RuleSet.load(DOCUMENT)
    rule = ruleset.rules[0]
    written: list[HitBatch] = []
    fail = [True]

    def sink(batch: HitBatch, paths: list[NotFoundPath]) -> None:
        if fail[0]:
            raise OSError("database away")
        written.append(batch)

    counts = HitCounts(sink=sink)
    counts.answered(Decision("redirect", 302, rule=rule))
    counts.flush()
    counts.answered(Decision("redirect", 302, rule=rule))
    fail[0] = False
    counts.flush()
    assert [{key: n for key, (n, _) in batch.items()} for batch in written] == [
        {("rule", "old-blog"): 2}
    ]


def _not_found_view(request: HttpRequest) -> HttpResponse:
    return HttpResponseNotFound("no")


def test_404s_are_tallied_by_path_with_referrers_and_crawlers() -> None:
    tally = NotFoundTally(keep=10)
    counts = HitCounts(sink=None, not_found=tally)
    get_response = counts.django_get_response(_not_found_view, is_async=False)
    factory = RequestFactory()
    for _ in range(4):
        get_response(factory.get("/lost", HTTP_REFERER="https://old.example/links"))
    get_response(factory.get("/lost", HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)"))
    get_response(factory.post("/lost"))  # a POST's 404 is no link to repair
    get_response(factory.get("/other"))
    (lost, other) = tally.take()
    assert (lost.path, lost.hits, lost.bot_hits) == ("/lost", 5, 1)
    assert lost.referrers == (("https://old.example/links", 4),)
    assert (other.path, other.hits) == ("/other", 1)
    assert len(tally) == 0  # a take starts the tally again
    write_hits({}, [lost, other], keep=10)
    write_hits({}, [lost._replace(bot_hits=0, referrers=())], keep=10)
    stored = NotFound.objects.get(path="/lost")
    assert stored.hits == 10
    assert stored.bot_share == pytest.approx(0.1)
    # A flush without referrers keeps the ones known.
    assert stored.referrers == [{"referrer": "https://old.example/links", "hits": 4}]


def test_a_flood_of_junk_404s_keeps_memory_and_the_table_bounded() -> None:
    keep = 1000
    tally = NotFoundTally(keep=keep)
    counts = HitCounts(sink=None, not_found=tally)
    get_response = counts.django_get_response(_not_found_view, is_async=False)
    factory = RequestFactory()
    request = factory.get("/")
    for _ in range(50):
        request.path = "/wanted"
        get_response(request)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        peak = start
        for n in range(50_000):
            request.path = f"/wp-login-{n:06d}.php"
            get_response(request)
            if n % 5000 == 0:
                peak = max(peak, tracemalloc.get_traced_memory()[0])
        grown = max(peak, tracemalloc.get_traced_memory()[0]) - start
    finally:
        tracemalloc.stop()
    assert grown < 2 * 1024 * 1024, grown
    assert len(tally) <= 2 * keep
    paths = tally.take()
    assert len(paths) == keep
    assert paths[0].path == "/wanted" and paths[0].hits == 50
    write_hits({}, paths, keep=keep)
    write_hits({}, tally.take() or [paths[-1]._replace(path="/one-more")], keep=keep)
    assert NotFound.objects.count() == keep
    assert NotFound.objects.order_by("-hits").first().path == "/wanted"  # type: ignore[union-attr]


def test_stale_lists_what_answered_nothing_since_the_day() -> None:
    hit = Redirect.objects.create(from_path="/hit", to="/a")
    Redirect.objects.create(from_path="/unhit", to="/b")
    now = datetime.now(timezone.utc).timestamp()
    write_hits(
        {
            ("rule", "old-blog"): (3, now),
            ("rule", "editors"): (2, now),
            ("row", "database", "default", hit.pk): (2, now),
        }
    )
    with override_settings(REDIRECTWARE=DOCUMENT):
        out = io.StringIO()
        call_command("redirectware_stale", "--since", "2000-01-01", "--json", stdout=out)
        report = json.loads(out.getvalue())
        assert [rule["name"] for rule in report["rules"]] == ["never"]
        assert report["rules"][0] == {"name": "never", "hits": 0, "last_hit": None}
        assert [row["from"] for row in report["rows"]] == ["/unhit"]
        out = io.StringIO()
        call_command("redirectware_stale", "--since", "2999-01-01", stdout=out)
    text = out.getvalue()
    assert "Rules with no hit since 2999-01-01: 3" in text
    assert "  old-blog: 3 hits, last 20" in text
    assert "  /unhit -> /b: 0 hits, last never" in text
