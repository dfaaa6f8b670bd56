"""``redirectware export cloudflare``: the Bulk Redirects CSV.

There is no Cloudflare to start here, so the proof is a round trip: the exported CSV,
imported again as Cloudflare documents its semantics (tests/test_import_cloudflare.py pins
that reading), answers every request of a corpus as the original document does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.exporting.export import export
from redirectware.tools.exporting.plan import ExportError
from redirectware.tools.importing.formats import import_file
from redirectware.tools.importing.writing import render

DOCUMENT = """\
settings:
  get_codes: strict
  allowed_hosts: [example.com, www.example.com]
rules:
  - {name: api, from: "/api/v1/{rest:path}", to: "/api/v2/{rest}", permanent: true}
  - {name: docs, from: /docs, to: "https://docs.example.net/", keep_query: false}
  - {name: promo, host: www.example.com, from: /promo, to: /sale, status: 307}
  - name: legacy
    permanent: true
    map:
      - {from: /old, to: /new}
      - {from: /old-page, to: "https://example.org/x"}
"""
PATHS = ["/api/v1/", "/api/v1/a/b?x=1", "/api/v1", "/api/v2/a", "/docs", "/docs?x=1", "/docs/",
         "/promo", "/old", "/old?y=2", "/old-page", "/elsewhere"]  # fmt: skip


def test_round_trip_answers_as_the_document(tmp_path: Path) -> None:
    original = tmp_path / "redirects.yaml"
    original.write_text(DOCUMENT)
    csv_file = tmp_path / "bulk.csv"
    assert main(["export", "cloudflare", str(original), "-o", str(csv_file)]) == 0
    imported = tmp_path / "imported.yaml"
    imported.write_text(render(import_file("cloudflare", csv_file)).document)
    before, after = RuleSet.from_file(original), RuleSet.from_file(imported)
    compared = 0
    for host in ("example.com", "www.example.com"):
        for scheme in ("http", "https"):
            for target in PATHS:
                path, _, query = target.partition("?")
                for method in ("GET", "HEAD", "POST", "PUT", "DELETE"):
                    want = before.resolve(method, scheme, host, path, query)
                    got = after.resolve(method, scheme, host, path, query)
                    assert (got.status, got.location) == (want.status, want.location), (
                        method, scheme, host, target)  # fmt: skip
                    compared += 1
    assert compared == 2 * 2 * len(PATHS) * 5


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (
            "rules:\n  - {name: a, host: x.example, from: /a, to: /b, permanent: true}\n",
            "one status to every method",
        ),
        (
            "settings: {get_codes: strict}\nrules:\n  - {name: a, from: /a, to: /b}\n",
            "names a host",
        ),
        (
            "settings: {get_codes: strict, allowed_hosts: [x.example]}\nrules:\n"
            '  - {name: a, from: "/a/{n}", to: "/b/{n}"}\n',
            "only an exact from",
        ),
        (
            "settings: {get_codes: strict, allowed_hosts: [x.example]}\nrules:\n"
            '  - {name: a, from: "/a/{rest:path}", to: "/b/{rest}"}\n'
            "  - {name: b, from: /a/special, to: /c}\n",
            "more specific row first",
        ),
        (
            "settings: {get_codes: strict, allowed_hosts: [x.example]}\nrules:\n"
            "  - {name: a, from: /About, to: /b, case_sensitive: false}\n",
            "case_sensitive: a Bulk Redirect row matches one spelling",
        ),
        (
            "settings: {get_codes: strict, allowed_hosts: [x.example]}\nrules:\n"
            "  - {name: a, from: /a, to: /b, trailing_slash_match: ignore}\n",
            "trailing_slash_match: a Bulk Redirect row matches one spelling",
        ),
        (
            "settings: {get_codes: strict, allowed_hosts: [x.example]}\nrules:\n"
            "  - {name: a, map: [{from: /old, status: 410}]}\n",
            "row /old: a Bulk Redirect only redirects",
        ),
        (
            "settings: {get_codes: strict, allowed_hosts: [x.example]}\nrules:\n"
            '  - {name: a, from_regex: "/p/(?P<n>[0-9]+)", to: "/q/{n}"}\n',
            "from_regex: a Bulk Redirect has no regular expressions",
        ),
    ],
)
def test_what_a_bulk_list_cannot_say(document: str, why: str) -> None:
    with pytest.raises(ExportError, match=why):
        export(RuleSet.from_dict(yaml.safe_load(document)), "cloudflare")
