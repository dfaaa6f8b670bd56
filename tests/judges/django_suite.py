"""Django's ``django.contrib.redirects`` as the judge of both ways into redirectware.

Run as ``python -m tests.judges.django_suite on|off CASES_JSON`` (``APPEND_SLASH``): it
configures a Django project of its own (``SITE_ID = 1``, an app that answers ``/`` and 404
for everything else, as ``tests/redirects_tests/urls.py`` in Django's repository), and for
each case creates its contrib rows and sends its requests three ways:

* ``contrib``: through ``RedirectFallbackMiddleware`` itself, the source tool;
* ``command``: through redirectware's middleware, after ``manage.py
  redirectware_import_contrib`` copied the rows into redirectware's table, served by a
  ``map: {database: default}`` rule with ``when: not_found`` (contrib answers after a 404),
  and the ``gone`` rule the command prints for rows with an empty ``new_path``;
* ``import``: through redirectware's middleware, serving what ``redirectware import django``
  makes of ``manage.py dumpdata redirects sites`` (``--site-id 1``, ``--append-slash``).

It prints one JSON object: ``{case: {way: [[status, location path or null], ...]}}``.
A process of its own, because Django is configured once per process.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

#: The app: "/" is served, every other path is the app's 404.
urlpatterns = [path("", lambda request: HttpResponse("OK"))]

CONTRIB = ["django.contrib.redirects.middleware.RedirectFallbackMiddleware"]
REDIRECTWARE = ["redirectware.django.RedirectMiddleware"]


def _configure(folder: Path, append_slash: bool) -> None:
    settings.configure(
        SECRET_KEY="tests-only-not-secret",
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
        APPEND_SLASH=append_slash,
        MIDDLEWARE=CONTRIB,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(folder / "db")}},
        USE_TZ=True,
        LOGGING_CONFIG=None,
        REDIRECTWARE={"version": 1, "rules": []},
    )
    django.setup()


def _answers(requests: list[list[str]]) -> list[list[Any]]:
    from django.test import Client

    answers: list[list[Any]] = []
    for method, target in requests:
        response = Client().generic(method, target)
        location = response.headers.get("Location")
        if location is not None and "://" in location:
            location = "/" + location.partition("://")[2].partition("/")[2]
        answers.append([response.status_code, location])
    return answers


def _run_case(case: dict[str, Any], folder: Path, append_slash: bool) -> dict[str, Any]:
    from django.contrib.redirects.models import Redirect as ContribRedirect
    from django.contrib.sites.models import Site
    from django.core.management import call_command
    from django.test import override_settings

    from redirectware.django.models import Redirect

    ContribRedirect.objects.all().delete()
    Redirect.objects.all().delete()
    site = Site.objects.get(pk=1)
    for old, new in case["rows"]:
        ContribRedirect.objects.create(site=site, old_path=old, new_path=new)
    out: dict[str, Any] = {}
    with override_settings(MIDDLEWARE=CONTRIB):
        out["contrib"] = _answers(case["requests"])
    # The command route: the rows copied into redirectware's table.
    report = io.StringIO()
    call_command("redirectware_import_contrib", stdout=report)
    # The gone rule the command prints for the rule document, added as its user would.
    printed = [line for line in report.getvalue().splitlines() if line.startswith("  ")]
    start = next((n for n, line in enumerate(printed) if line.startswith("  - name:")), None)
    block = [] if start is None else printed[start:]
    block = block[
        : next(
            (n for n, line in enumerate(block) if not line.startswith(("  - ", "    "))), len(block)
        )
    ]
    document = folder / f"{case['name']}-command.yaml"
    document.write_text(
        "version: 1\nrules:\n  - name: contrib\n    map: {database: default}\n"
        "    permanent: true\n    when: not_found\n" + "".join(line + "\n" for line in block),
        encoding="utf-8",
    )
    with override_settings(MIDDLEWARE=REDIRECTWARE, REDIRECTWARE=document):
        out["command"] = _answers(case["requests"])
    # The import route: a dump of the rows, through the console script.
    dump = folder / f"{case['name']}.json"
    call_command("dumpdata", "redirects", "sites", output=str(dump), verbosity=0)
    imported = folder / f"{case['name']}.yaml"
    subprocess.run(
        [sys.executable, "-m", "redirectware", "import", "django", str(dump), "-o", str(imported),
         "--site-id", "1", "--append-slash", "on" if append_slash else "off"],
        capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    with override_settings(MIDDLEWARE=REDIRECTWARE, REDIRECTWARE=imported):
        out["import"] = _answers(case["requests"])
    return out


def main(argv: list[str]) -> None:
    """``on|off CASES_JSON``: print the answers of every case, every way."""
    append_slash = argv[0] == "on"
    cases: list[dict[str, Any]] = json.loads(argv[1])
    folder = Path(tempfile.mkdtemp(prefix="redirectware-django-suite-"))
    _configure(folder, append_slash)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results = {case["name"]: _run_case(case, folder, append_slash) for case in cases}
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
