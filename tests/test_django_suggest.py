"""``manage.py redirectware_suggest``: the live URLs from the project's own sitemaps."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from tests.django_site import configure

configure()

from django.core.management import CommandError, call_command  # noqa: E402
from django.test import override_settings  # noqa: E402


def test_the_sitemaps_of_the_urlconf_are_the_live_urls(tmp_path: Path) -> None:
    (tmp_path / "404s.json").write_text(
        json.dumps(["/about.html", "/blog/2020/01/hello-world/", "/wp-login.php"])
    )
    out = io.StringIO()
    with override_settings(ROOT_URLCONF="tests.django_site.sitemap_urls"):
        call_command(
            "redirectware_suggest",
            "--not-found",
            str(tmp_path / "404s.json"),
            "--out",
            str(tmp_path / "out"),
            stdout=out,
        )
    text = out.getvalue()
    assert "/about.html -> /about/" in text
    assert "/blog/2020/01/hello-world/ -> /blog/hello-world/" in text
    rows = (tmp_path / "out" / "suggested-map.csv").read_text().splitlines()
    assert rows == [
        "from,to",
        "/about.html,/about/",
        "/blog/2020/01/hello-world/,/blog/hello-world/",
    ]


def test_without_a_sitemap_it_asks_for_urls(tmp_path: Path) -> None:
    (tmp_path / "404s.json").write_text(json.dumps(["/about.html"]))
    with pytest.raises(CommandError, match="--urls"):
        call_command("redirectware_suggest", "--not-found", str(tmp_path / "404s.json"))


def test_without_rapidfuzz_it_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "404s.json").write_text(json.dumps(["/about.html"]))
    (tmp_path / "urls.txt").write_text("/about/\n")
    monkeypatch.setitem(sys.modules, "rapidfuzz", None)  # what "not installed" looks like
    with pytest.raises(CommandError) as caught:
        call_command(
            "redirectware_suggest",
            "--not-found",
            str(tmp_path / "404s.json"),
            "--urls",
            str(tmp_path / "urls.txt"),
        )
    assert str(caught.value) == (
        "redirectware suggest needs the 'suggest' extra (import of rapidfuzz halted; None in "
        "sys.modules): pip install 'redirectware[suggest]'"
    )
