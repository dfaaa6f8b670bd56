"""``redirectware export netlify``: a ``_redirects`` file, proven by a round trip.

Netlify cannot be run here, so the proof is ``redirectware import netlify`` of the exported
file (the importer encodes Netlify's matching: forced lines, a trailing slash that never
matters, the query passed on): the imported document must answer every request as the
original does, for every method, with and without a query, near misses included.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.exporting.export import export, export_all
from redirectware.tools.exporting.plan import ExportError
from redirectware.tools.importing.netlify import parse_redirects
from redirectware.tools.importing.settling import settle
from redirectware.tools.importing.writing import render

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")

DOCUMENT = """\
version: 1
settings:
  allowed_hosts: [example.com, www.example.com, old.example.com]
  get_codes: strict
  trailing_slash_match: ignore
rules:
  - name: about
    from: /about-us
    to: /about
    permanent: true
  - name: posts
    from: /posts/{year}/{slug}
    to: /blog/{year}/{slug}
  - name: temporary
    from: /sale
    to: https://shop.example.net/sale
    status: 307
  - name: old-host
    host: old.example.com
    from: /
    to: https://example.com/
    permanent: true
  - name: legacy
    permanent: true
    map:
      - {from: /legacy/a, to: /modern/a}
      - {from: /legacy/b, to: "https://example.net/b"}
"""

#: Paths tried on both documents: each rule's, with and without a slash, near misses.
PATHS = (
    "/about-us", "/about-us/", "/about-us//", "/ABOUT-US", "/about-usx", "/about",
    "/posts/2024/hello", "/posts/2024/hello/", "/posts/2024", "/posts/2024/hello/x",
    "/sale", "/sale/", "/sales", "/", "/legacy/a", "/legacy/a/", "/legacy/b", "/legacy/c",
    "/nothing",
)  # fmt: skip
HOSTS = ("example.com", "old.example.com", "www.example.com")


def _round_trip(document: str, folder: Path) -> tuple[RuleSet, RuleSet, str]:
    original_path = folder / "redirects.yaml"
    original_path.write_text(document)
    original = RuleSet.from_file(original_path)
    text = export(original, "netlify")
    result = parse_redirects(text, "_redirects")
    settle(result)
    assert not result.losses, [str(loss) for loss in result.losses]
    imported_path = folder / "imported.yaml"
    imported_path.write_text(render(result).document)
    return original, RuleSet.from_file(imported_path), text


def test_the_imported_export_answers_as_the_original(tmp_path: Path) -> None:
    original, imported, _ = _round_trip(DOCUMENT, tmp_path)
    compared = redirects = 0
    for path in PATHS:
        for query in ("", "x=1&y=%20"):
            for host in HOSTS:
                for scheme in ("http", "https"):
                    for method in METHODS:
                        want = original.resolve(method, scheme, host, path, query)
                        got = imported.resolve(method, scheme, host, path, query)
                        where = f"{method} {scheme}://{host}{path}?{query}"
                        assert (got.status, got.location) == (want.status, want.location), where
                        compared += 1
                        redirects += want.location is not None
    assert compared == len(PATHS) * 2 * len(HOSTS) * 2 * len(METHODS)
    assert redirects > 100


def test_the_format_netlify_reads(tmp_path: Path) -> None:
    _, _, text = _round_trip(DOCUMENT, tmp_path)
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 7  # old-host is written for http and https
    for line in lines:
        origin, target, status = line.split()
        assert re.fullmatch(r"(https?://[a-z.]+)?/[^\s]*", origin), line
        assert re.fullmatch(r"(https?://[a-z.]+)?/[^\s]*", target), line
        # Forced, and a code that keeps the method: the same answer to every method.
        assert status in ("307!", "308!"), line
    assert "/posts/:year/:slug  /blog/:year/:slug  307!" in lines


def test_a_301_is_refused_not_written_for_every_method(tmp_path: Path) -> None:
    document = yaml.safe_load(DOCUMENT)
    del document["settings"]["get_codes"]
    with pytest.raises(ExportError) as raised:
        export(RuleSet.from_dict(document), "netlify")
    text = str(raised.value)
    assert "rules[0] 'about': status: Netlify sends one status to every method" in text
    assert "'temporary'" not in text  # an explicit 307 is what Netlify sends to all


def test_what_netlify_cannot_match_the_same_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text("""\
settings: {get_codes: strict}
rules:
  - name: strict-slash
    from: /a
    to: /b
  - name: rest
    from: /docs/{rest:path}
    to: /d/{rest}
    trailing_slash_match: ignore
  - name: gone
    from: /old
    gone: true
""")
    exported = export_all(RuleSet.from_file(path), "netlify", partial=True)
    why = {problem.rule: f"{problem.line}: {problem.key}: {problem.why}"
           for problem in exported.left_out}  # fmt: skip
    assert why["rules[0] 'strict-slash'"].startswith("3: trailing_slash_match: Netlify matches")
    assert why["rules[1] 'rest'"].startswith("7: from: Netlify's from")
    assert why["rules[2] 'gone'"].startswith("12: gone: Netlify answers 410/451")
    assert exported.written == 0


def test_cli_export_netlify(tmp_path: Path) -> None:
    rules = tmp_path / "redirects.yaml"
    rules.write_text(DOCUMENT)
    out = tmp_path / "_redirects"
    assert main(["export", "netlify", str(rules), "-o", str(out)]) == 0
    assert "/about-us  /about  308!" in out.read_text()
