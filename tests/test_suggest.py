"""``redirectware suggest`` against a generated site whose right answers are known."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

from redirectware.cli import main
from redirectware.tools.suggest import suggest

WORDS = [
    "apple", "river", "stone", "cloud", "ember", "frost", "grove", "harbor", "island",
    "jungle", "kettle", "lantern", "meadow", "nectar", "orchard", "pepper", "quartz",
    "raven", "saddle", "timber",
]  # fmt: skip
SECTIONS = ["install", "configure", "deploy", "upgrade", "reference"]


def live_site() -> list[str]:
    """The live URLs of the generated site."""
    posts = [f"/blog/{a}-{b}/" for a, b in zip(WORDS, WORDS[5:] + WORDS[:5], strict=True)]
    docs = [f"/docs/{section}/{word}/" for section in SECTIONS for word in WORDS[:6]]
    products = ["/products/widget-pro", "/products/large-blue-lamp", "/products/garden-hose"]
    return ["/", "/about/", "/contact/", *posts, *docs, *products]


def known_answers() -> tuple[dict[str, str], dict[str, str], list[str]]:
    """404 paths with the row each should get, those a template covers, and junk."""
    posts = [p for p in live_site() if p.startswith("/blog/")]
    rows = {
        # A date dropped from the blog's paths.
        **{p.replace("/blog/", f"/blog/20{10 + n}/0{1 + n % 9}/"): p for n, p in enumerate(posts)},
        # Extensions of the old site.
        "/about.html": "/about/",
        "/contact.php": "/contact/",
        "/index.html": "/",
        # Typos and reorderings.
        "/products/wigdet-pro": "/products/widget-pro",
        "/products/blue-lamp-large": "/products/large-blue-lamp",
    }
    renamed = {
        p.replace("/docs/", "/documentation/"): p for p in live_site() if p.startswith("/docs/")
    }
    junk = ["/wp-login.php", "/.env", "/xmlrpc.php", "/cgi-bin/luci"]
    return rows, renamed, junk


def counts() -> dict[str, int]:
    rows, renamed, junk = known_answers()
    return {path: 1 + n % 7 for n, path in enumerate([*rows, *renamed, *junk])}


def test_every_known_answer_is_found_and_junk_is_left_for_a_person() -> None:
    rows, renamed, junk = known_answers()
    found = suggest(counts(), live_site())
    assert [(rule.source, rule.target) for rule in found.templates] == [
        ("/documentation/{rest:path}", "/docs/{rest}")
    ]
    assert set(found.templates[0].covers) == set(renamed)
    assert {s.source: s.target for s in found.accepted} == rows
    assert {s.source for s in found.review} == set(junk)
    migrations = {s.source: s.why for s in found.accepted if s.score == 100}
    assert migrations["/about.html"] == "extension dropped"
    assert migrations["/index.html"] == "index file dropped"
    assert migrations["/blog/2010/01/apple-frost/"] == "date dropped from the path"
    # Ordered by how often each 404 is asked for.
    requests = [s.requests for s in found.accepted]
    assert requests == sorted(requests, reverse=True)


def test_the_threshold_decides_what_is_accepted() -> None:
    found = suggest(counts(), live_site(), threshold=100)
    assert all(s.score == 100 for s in found.accepted)
    assert "/products/wigdet-pro" in {s.source for s in found.review}


def test_a_near_tie_is_ambiguous_whatever_its_score() -> None:
    found = suggest({"/products/lamp": 3}, ["/products/lamp-red", "/products/lamp-blu"])
    assert found.accepted == []
    assert found.review[0].ambiguous


def test_no_template_below_the_minimum() -> None:
    _, renamed, _ = known_answers()
    two = dict.fromkeys(list(renamed)[:2], 1)
    found = suggest(two, live_site(), min_template=3)
    assert found.templates == []


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def _sitemap(urls: list[str]) -> str:
    entries = "".join(f"<url><loc>https://example.com{u}</loc></url>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )


def test_the_command_writes_a_map_and_tests_that_check_passes(tmp_path: Path) -> None:
    rows, renamed, junk = known_answers()
    (tmp_path / "sitemap.xml").write_text(_sitemap(live_site()))
    replayed = {"not_found": [{"path": p, "requests": n} for p, n in counts().items()]}
    (tmp_path / "replay.json").write_text(json.dumps(replayed))
    out = tmp_path / "suggestions"
    code, text = _run(
        "suggest",
        "--not-found",
        str(tmp_path / "replay.json"),
        "--urls",
        str(tmp_path / "sitemap.xml"),
        "--out",
        str(out),
    )
    assert code == 0, text
    assert "/documentation/{rest:path} -> /docs/{rest}" in text
    with (out / "suggested-map.csv").open(newline="") as handle:
        written = list(csv.reader(handle))
    assert written[0] == ["from", "to"]
    assert dict(written[1:]) == rows
    with (out / "review.csv").open(newline="") as handle:
        review = {row["from"]: row for row in csv.DictReader(handle)}
    assert {path for path, row in review.items() if row["accepted"] == "no"} == set(junk)
    # The document loads the map as written and its tests: pin every suggestion.
    code, checked = _run("check", str(out / "suggested-redirects.yaml"))
    assert code == 0, checked
    pinned = len(rows) + len(renamed)
    assert f"{pinned} of {pinned} tests passed" in checked


def test_404s_from_an_access_log_and_urls_from_a_text_file(tmp_path: Path) -> None:
    log = "".join(
        f'1.2.3.4 - - [t] "GET {path}?x=1 HTTP/1.1" {status} 0 "-" "-"\n'
        for path, status in [("/about.html", 404), ("/about.html", 404), ("/fine", 200)]
    )
    (tmp_path / "access.log").write_text(log + "garbage\n")
    (tmp_path / "urls.txt").write_text("# live\nhttps://example.com/about/\n/contact/\n")
    code, text = _run(
        "suggest",
        "--not-found",
        str(tmp_path / "access.log"),
        "--urls",
        str(tmp_path / "urls.txt"),
    )
    assert code == 0
    assert "/about.html -> /about/  (extension dropped; 2 requests)" in text


def test_a_sitemap_index_reads_its_children(tmp_path: Path) -> None:
    (tmp_path / "sitemap-pages.xml").write_text(_sitemap(["/about/"]))
    (tmp_path / "sitemap.xml").write_text(
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>https://example.com/sitemap-pages.xml</loc></sitemap></sitemapindex>"
    )
    (tmp_path / "404s.json").write_text(json.dumps(["/about.htm"]))
    code, text = _run(
        "suggest",
        "--not-found",
        str(tmp_path / "404s.json"),
        "--urls",
        str(tmp_path / "sitemap.xml"),
    )
    assert code == 0 and "/about.htm -> /about/" in text


def test_bad_inputs_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"not_found": 3}')
    (tmp_path / "urls.txt").write_text("/a\n")
    code, text = _run(
        "suggest", "--not-found", str(tmp_path / "bad.json"), "--urls", str(tmp_path / "urls.txt")
    )
    assert code == 2 and "not_found" in text
    code, text = _run(
        "suggest", "--not-found", str(tmp_path / "nope"), "--urls", str(tmp_path / "urls.txt")
    )
    assert code == 2 and "no such file" in text
