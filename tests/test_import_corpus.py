"""Real redirect files of well-known projects, imported, and each source tool as the judge.

tests/fixtures/import_corpus holds the files (sources and licences in its README). From each
redirect line requests are drawn (tests/judges/corpus.py); the source tool answers them:

* nginx and Apache: Debian's servers, started here on 127.0.0.1 with the file itself (nginx
  with TLS where the file listens with ``ssl``, on a self-signed certificate);
* Netlify and Vercel: their open code under Node (tests/judges/judge.mjs), whose answers are
  stored beside each file (``FILE.answers.json``, made by ``python -m tests.judges.record``)
  so that these tests need no node.

Every request of a line the importer does not report must get the same answer from the
imported document, but for the documented differences (see tests/judges/corpus.py). Every
redirect line is translated or reported: the loss report of each file is pinned below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from redirectware import RuleSet
from redirectware.tools.importing.formats import import_file
from redirectware.tools.importing.result import ImportResult
from redirectware.tools.importing.writing import render
from tests.judges import corpus
from tests.judges.servers import apache_htaccess, ask, nginx_config, nginx_site

#: What each file's import reports, by line: every redirect line not listed is translated.
REPORTED: dict[str, dict[int, str]] = {
    "kubernetes._redirects": {},
    "vite._redirects": {},
    "vuejs-docs._redirects": {},
    "astro-docs.vercel.json": {78: "statusCode 404 is not a redirect"},
    "react.dev.vercel.json": {},
    "trpc.vercel.json": {},
    "h5bp-example.com.conf": {},
    "iojs.org.conf": {},
    "nodejs.org.conf": {
        40: "return 204 is not a redirect",
        44: "an internal rewrite",
    },
    "laravel.htaccess": {
        10: "the RewriteCond on line 9 is not translated",  # a file-system condition
        15: "an internal rewrite",
        19: "not a redirect: the target '-'",
    },
    "h5bp-rewrite_nowww.htaccess": {
        29: "not a redirect: the target '-'",
        31: "not a redirect: the target '-'",
        35: "the RewriteCond on line 34 is not translated",  # a capture of the host
    },
    "h5bp-rewrite_http_to_https.htaccess": {},
    "symfony-apache-pack.htaccess": {
        31: "not a redirect: the target '-'",
        35: "not a redirect: the target '-'",
        49: "the RewriteCond on line 48 is not translated",  # %{ENV:REDIRECT_STATUS}
        54: "not a redirect: the target '-'",
        57: "redirectware refuses it",  # a target of %{REQUEST_URI} alone
        60: "an internal rewrite",
        68: "inside <IfModule !mod_rewrite.c>",  # Apache here has mod_rewrite
    },
}

#: Each file's tally, for the agreement summary (test_agreement_summary).
TALLIES: dict[str, corpus.Tally] = {}

CASES = [(fmt, path) for fmt in corpus.FORMATS for path in corpus.files(fmt)]


def _imported(fmt: str, path: Path, folder: Path) -> tuple[ImportResult, RuleSet]:
    result = import_file(fmt, path)
    written = render(result, map_stem="imported")
    document = folder / "imported.yaml"
    document.write_text(written.document, encoding="utf-8")
    for name, text in written.maps:
        (folder / name).write_text(text, encoding="utf-8")
    return result, RuleSet.from_file(document)


def _check(tally: corpus.Tally, name: str) -> None:
    # Something was judged: a compared request, or a line reported (whose requests are not).
    assert tally.compared + tally.skipped_reported > 0, name
    assert not tally.mismatches, "\n".join(tally.mismatches or [])
    TALLIES[name] = tally


def _reported(result: ImportResult, name: str) -> set[int]:
    got = {loss.line: loss.why for loss in result.losses}
    assert sorted(got) == sorted(REPORTED[name]), got
    for line, words in REPORTED[name].items():
        assert words in got[line], (line, got[line])
    return set(got)


@pytest.mark.parametrize(
    ("fmt", "path"), [c for c in CASES if c[0] in ("netlify", "vercel")],
    ids=[c[1].name for c in CASES if c[0] in ("netlify", "vercel")],
)  # fmt: skip
def test_node_judged(fmt: str, path: Path, tmp_path: Path) -> None:
    stored = json.loads(corpus.answers_path(path).read_text(encoding="utf-8"))
    requests = [corpus.Request(*request) for request, _ in stored["pairs"]]
    # The stored answers are for the requests drawn today: else record them again.
    assert requests == corpus.requests_for(fmt, path), "run python -m tests.judges.record"
    result, ruleset = _imported(fmt, path, tmp_path)
    froms = corpus.netlify_froms(path.read_text()) if fmt == "netlify" else None
    tally = corpus.compare(fmt, ruleset, _reported(result, path.name), requests,
                           [answer for _, answer in stored["pairs"]], froms)  # fmt: skip
    _check(tally, path.name)


@pytest.mark.parametrize("path", corpus.files("nginx"), ids=[p.name for p in corpus.files("nginx")])
def test_nginx_judged(path: Path, tmp_path: Path) -> None:
    result, ruleset = _imported("nginx", path, tmp_path)
    requests = corpus.requests_for("nginx", path)
    with nginx_config(nginx_site(path.read_text()), tmp_path / "nginx") as (server, tls_port):

        def one(method: str, url: str) -> tuple[int, str | None]:
            parts = urlsplit(url)
            tls = parts.scheme == "https"
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            return ask(tls_port if tls else server.port, tls, method, target, parts.netloc)

        answers: list[Any] = [corpus.follow(one, r.method, r.url) for r in requests]
    tally = corpus.compare("nginx", ruleset, _reported(result, path.name), requests, answers)
    _check(tally, path.name)


@pytest.mark.parametrize(
    "path", corpus.files("apache"), ids=[p.name for p in corpus.files("apache")]
)
def test_apache_judged(path: Path, tmp_path: Path) -> None:
    source = tmp_path / ".htaccess"
    source.write_text(path.read_text(), encoding="utf-8")
    result, ruleset = _imported("apache", source, tmp_path)
    requests = corpus.requests_for("apache", path)
    with apache_htaccess(path.read_text(), tmp_path / "apache") as server:

        def one(method: str, url: str) -> tuple[int, str | None]:
            parts = urlsplit(url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            return ask(server.port, False, method, target, parts.netloc)

        answers: list[Any] = [corpus.follow(one, r.method, r.url) for r in requests]
    tally = corpus.compare("apache", ruleset, _reported(result, path.name), requests, answers)
    _check(tally, path.name)
