"""Django's own tests of ``django.contrib.redirects``, ported: each row run through contrib's
``RedirectFallbackMiddleware`` (the judge), through ``manage.py redirectware_import_contrib``
and through ``redirectware import django``, in a Django project of its own
(tests/judges/django_suite.py, one process per ``APPEND_SLASH``).

Ported from Django's repository, ``tests/redirects_tests/tests.py`` (``RedirectTests``),
https://github.com/django/django, BSD-3-Clause licence, Copyright (c) Django Software
Foundation and individual contributors (the licence is in
tests/fixtures/import_django_suite/LICENSE). Each of its tests that sends a request is a row
below, with the rows it creates, the request, and the answer it asserts; the tests of the
model's ``str``, of a missing ``django.contrib.sites`` and of subclasses that change the
response classes send no request an import could answer and are not ported. To each row a
POST is added: contrib answers it 301, redirectware 308 (the one documented difference),
and the request without a trailing slash where the suite only tries it with ``APPEND_SLASH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: (name, APPEND_SLASH, contrib rows, method, request, expected status, expected Location)
SUITE: list[tuple[str, bool, list[list[str]], str, str, int, str | None]] = [
    # test_redirect
    ("redirect", False, [["/initial", "/new_target"]], "GET", "/initial", 301, "/new_target"),
    # test_redirect_with_append_slash
    ("redirect_with_append_slash", True, [["/initial/", "/new_target/"]], "GET", "/initial", 301,
     "/new_target/"),
    # test_redirect_with_append_slash_and_query_string
    ("redirect_with_append_slash_and_query_string", True, [["/initial/?foo", "/new_target/"]],
     "GET", "/initial?foo", 301, "/new_target/"),
    # test_redirect_not_found_with_append_slash
    ("redirect_not_found_with_append_slash", True, [], "GET", "/test", 404, None),
    # test_redirect_shortcircuits_non_404_response
    ("redirect_shortcircuits_non_404_response", False, [], "GET", "/", 200, None),
    # test_response_gone
    ("response_gone", False, [["/initial", ""]], "GET", "/initial", 410, None),
    # Added: the same rows without APPEND_SLASH, where the second try is not made.
    ("without_append_slash", False, [["/initial/", "/new_target/"]], "GET", "/initial", 404,
     None),
    ("without_append_slash_row_itself", False, [["/initial/", "/new_target/"]], "GET",
     "/initial/", 301, "/new_target/"),
    # Added: a row naming the path wins over another row's slash-added second try.
    ("the_path_itself_first", True, [["/initial/", "/slash/"], ["/initial", "/plain/"]], "GET",
     "/initial", 301, "/plain/"),
    ("response_gone_with_append_slash", True, [["/initial/", ""]], "GET", "/initial", 410, None),
]  # fmt: skip
WAYS = ("contrib", "command", "import")


def _with_post(
    rows: list[tuple[str, bool, list[list[str]], str, str, int, str | None]],
) -> list[tuple[str, bool, list[list[str]], str, str, int, str | None]]:
    """Each row, and the same request as a POST: contrib's 301 is redirectware's 308."""
    out = []
    for name, slash, contrib, _, target, status, location in rows:
        out.append((name, slash, contrib, "GET", target, status, location))
        out.append((name + "_post", slash, contrib, "POST", target, status, location))
    return out


ROWS = _with_post(SUITE)


@cache
def _answers(append_slash: bool) -> dict[str, dict[str, list[list[Any]]]]:
    """Every row of one APPEND_SLASH setting, answered every way, in one process."""
    cases = [
        {"name": name, "rows": contrib, "requests": [[method, target]]}
        for name, slash, contrib, method, target, _, _ in ROWS
        if slash == append_slash
    ]
    done = subprocess.run(
        [sys.executable, "-m", "tests.judges.django_suite", "on" if append_slash else "off",
         json.dumps(cases)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answers: dict[str, dict[str, list[list[Any]]]] = json.loads(done.stdout)
    return answers


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(
    ("name", "append_slash", "rows", "method", "target", "status", "location"),
    ROWS,
    ids=[row[0] for row in ROWS],
)
def test_django_redirects_suite(
    way: str,
    name: str,
    append_slash: bool,
    rows: list[list[str]],
    method: str,
    target: str,
    status: int,
    location: str | None,
) -> None:
    got = _answers(append_slash)[name][way]
    if way != "contrib" and method == "POST" and status == 301:
        status = 308  # a POST keeps its method and body: the one documented difference
    assert got == [[status, location]], (way, name)
