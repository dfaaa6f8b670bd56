"""Redirects in a Django table: redirectware's ``map: {database: default}`` against the same
rows from a CSV file, and against ``django.contrib.redirects``.

Run it from the repository root::

    .venv/bin/python benchmarks/django_table.py            # 100,000 rows
    .venv/bin/python benchmarks/django_table.py --quick    # 2,000 rows, few iterations

Three tables come out. **Compile**: the median time to build the rule set from the CSV file
and from the table (an SQLite file; the query is part of it), and their ratio. **Judging**:
what the admin does before a save (the whole set compiled with the row, then analysed). **Per
request**: a full Django request through the test client's handler (no network), for a URL
in the table (hit) and one not in it (miss), with redirectware's middleware and with
contrib.redirects' ``RedirectFallbackMiddleware`` (which queries the table on every 404),
each minus the same request with neither middleware. Queries per request are counted.

This is a measuring script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
FOLDER = Path(tempfile.mkdtemp(prefix="redirectware-bench-django-"))
CSV_FILE = FOLDER / "rows.csv"

settings.configure(
    SECRET_KEY="bench",
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.sites",
        "django.contrib.redirects",
        "redirectware.django",
    ],
    SITE_ID=1,
    MIDDLEWARE=[],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(FOLDER / "db")}},
    USE_TZ=True,
    REDIRECTWARE={"version": 1, "rules": [{"map": {"database": "default"}, "permanent": True}]},
    REDIRECTWARE_RELOAD_INTERVAL=3600,  # one compile, at start: measured apart
)
django.setup()
# The app answers 404 to every request measured; Django would log each one.
logging.getLogger("django.request").setLevel(logging.ERROR)

from django.contrib.redirects.models import Redirect as ContribRedirect  # noqa: E402
from django.contrib.sites.models import Site  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import re_path  # noqa: E402

from redirectware.django.models import Redirect  # noqa: E402
from redirectware.django.rows import Pending  # noqa: E402
from redirectware.django.validation import judge  # noqa: E402
from redirectware.ruleset import RuleSet  # noqa: E402


def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    """The app: 404 for everything, as a site answers an old URL."""
    return HttpResponse("not here", status=404)


urlpatterns = [re_path(r"^(?P<rest>.*)$", not_found)]

MIDDLEWARE = {
    "neither": [],
    "redirectware": ["redirectware.django.RedirectMiddleware"],
    "contrib.redirects": ["django.contrib.redirects.middleware.RedirectFallbackMiddleware"],
}


def fill(rows: int) -> None:
    """The same rows in the CSV file, redirectware's table and contrib.redirects' table."""
    call_command("migrate", verbosity=0)
    pairs = [(f"/old/page-{i}", f"/new/page-{i}") for i in range(rows)]
    with CSV_FILE.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["from", "to"])
        writer.writerows(pairs)
    Redirect.objects.bulk_create([Redirect(from_path=a, to=b) for a, b in pairs], 5000)
    site = Site.objects.get(pk=1)
    ContribRedirect.objects.bulk_create(
        [ContribRedirect(site=site, old_path=a, new_path=b) for a, b in pairs], 5000
    )


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``work`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compile_table(rows: int, repeat: int) -> None:
    """Compile time: CSV file against the table."""
    from_csv = {"version": 1, "rules": [{"map": str(CSV_FILE), "permanent": True}]}
    from_table = settings.REDIRECTWARE
    csv_s = median_seconds(lambda: RuleSet.from_dict(from_csv), repeat)
    table_s = median_seconds(lambda: RuleSet.from_dict(from_table), repeat)
    print(f"\n### Compile, {rows:,} rows (median of {repeat})\n")
    print("| source | ms | ratio |")
    print("| --- | ---: | ---: |")
    print(f"| CSV file | {csv_s * 1000:.1f} | 1.00 |")
    print(
        f"| table (`map: {{database: default}}`) | {table_s * 1000:.1f} | {table_s / csv_s:.2f} |"
    )


def judging(rows: int, repeat: int) -> None:
    """What an admin save costs: the whole rule set judged with one new row."""
    change = Pending("default", set(), [("", ("/brand-new", "/target", None, None, None))])
    seconds = median_seconds(lambda: judge(change), repeat)
    print(f"\n### Judging an admin save, {rows:,} rows (median of {repeat})\n")
    print("| step | ms |")
    print("| --- | ---: |")
    print(f"| compile with the new row, then check's analysis | {seconds * 1000:.0f} |")


def per_request(rows: int, requests: int) -> None:
    """Per-request time of each middleware, hit and miss, minus neither."""
    hit, miss = f"/old/page-{rows // 2}", "/not/in/the/table"
    results: dict[tuple[str, str], tuple[float, float]] = {}
    for name, middleware in MIDDLEWARE.items():
        with override_settings(MIDDLEWARE=middleware):
            client = Client()
            for label, path in (("hit", hit), ("miss", miss)):
                client.get(path)  # builds the middleware chain (and compiles the rules)
                samples = []
                with CaptureQueriesContext(connection) as captured:
                    for _ in range(5):
                        start = time.perf_counter()
                        for _ in range(requests):
                            client.get(path)
                        samples.append((time.perf_counter() - start) / requests)
                queries = len(captured.captured_queries) / (5 * requests)
                results[(name, label)] = (statistics.median(samples), queries)
    print(f"\n### Per request, {rows:,} rows (Django test client, median of 5 x {requests})\n")
    print("| middleware | URL | µs per request | added µs | queries per request |")
    print("| --- | --- | ---: | ---: | ---: |")
    for (name, label), (seconds, queries) in results.items():
        added = seconds - results[("neither", label)][0]
        print(f"| {name} | {label} | {seconds * 1e6:.0f} | {added * 1e6:.0f} | {queries:.0f} |")


def main() -> None:
    """Fill the tables, then print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 rows, few iterations")
    quick = parser.parse_args().quick
    rows = 2_000 if quick else 100_000
    fill(rows)
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}, SQLite "
          f"{sqlite3.sqlite_version}, {os.cpu_count()} CPUs")  # fmt: skip
    compile_table(rows, 3 if quick else 9)
    judging(rows, 3 if quick else 5)
    per_request(rows, 50 if quick else 1000)


if __name__ == "__main__":
    main()
