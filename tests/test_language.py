"""``language`` rules: the negotiation (RFC 9110, RFC 4647 lookup) as a table, through the
engine and every adapter, hostile headers included; the load errors; the memory of answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from redirectware import RedirectMiddleware, RuleError, RuleSet
from redirectware.engine.language import MAX_RANGES, Negotiator, parse_ranges
from redirectware.kinds import BY_KEY, Kind
from redirectware.tools.expectations import run_expectations
from tests import matrix_cells as cells
from tests.django_site import configure

configure()

AVAILABLE = ("en", "fr", "de", "pt-BR")
DOCUMENT = """\
version: 1
rules:
  - name: language
    from: /
    language:
      available: [en, fr, de, pt-BR]
      cookie: django_language
    to: /{lang}/
"""

#: (Accept-Language, Cookie, the language chosen: None for "passes through").
TABLE = [
    pytest.param("fr", None, "fr", id="plain"),
    pytest.param("FR", None, "fr", id="case-insensitive"),
    pytest.param("fr-CH, fr;q=0.9, en;q=0.8", None, "fr", id="region-falls-back"),
    pytest.param("pt-br", None, "pt-BR", id="tag-as-written"),
    pytest.param("pt", None, None, id="lookup-does-not-widen"),
    pytest.param("de-CH-1996", None, "de", id="truncation-twice"),
    pytest.param("en;q=0.5, de", None, "de", id="highest-q"),
    pytest.param("de, fr", None, "fr", id="ties-by-available-order"),
    pytest.param("fr;q=0, *", None, "en", id="star-takes-first-available"),
    pytest.param("en;q=0, fr;q=0, *;q=0.1", None, "de", id="q0-excludes"),
    pytest.param("*;q=0", None, None, id="star-q0-excludes-all"),
    pytest.param("es, it", None, None, id="none-available"),
    pytest.param("", None, None, id="empty"),
    pytest.param(None, None, None, id="absent-crawler"),
    pytest.param("fr;q=2, de;q=0.5", None, "de", id="q-out-of-range-skipped"),
    pytest.param("fr;q=abc, de;q=0.5", None, "de", id="q-malformed-skipped"),
    pytest.param("f r, @@, de", None, "de", id="junk-ranges-skipped"),
    pytest.param(";;;,,,", None, None, id="only-separators"),
    pytest.param("fr", "django_language=de", "de", id="cookie-wins"),
    pytest.param("fr", "django_language=xx", "fr", id="unknown-cookie-ignored"),
    pytest.param(None, "django_language=PT-br", "pt-BR", id="cookie-alone"),
    pytest.param(", ".join(f"x{n}" for n in range(200)) + ", fr", None, None, id="200-tags"),
    pytest.param("fr, " + "x" * 8000, None, "fr", id="8kb-header"),
    pytest.param("a" * 8000, None, None, id="8kb-one-range"),
]


def _expect(chosen: str | None) -> str:
    if chosen is None:
        return "pass"
    return f"{{status: 302, location: /{chosen}/}}"


def _document(header: str | None, cookie: str | None, chosen: str | None) -> str:
    headers = {}
    if header is not None:
        headers["Accept-Language"] = header
    if cookie is not None:
        headers["Cookie"] = cookie
    quoted = ", ".join(f'{name}: "{value}"' for name, value in headers.items())
    test = "  - request: GET http://example.com/\n"
    if headers:
        test += f"    headers: {{{quoted}}}\n"
    test += f"    expect: {_expect(chosen)}\n"
    test += "  - request: POST http://example.com/\n"
    if headers:
        test += f"    headers: {{{quoted}}}\n"
    test += "    expect: pass\n"
    return DOCUMENT + "tests:\n" + test


@pytest.mark.parametrize(("header", "cookie", "chosen"), TABLE)
@pytest.mark.parametrize("adapter", ["engine", "asgi", "wsgi", "flask", "django"])
def test_the_table_through_every_adapter(
    adapter: str, header: str | None, cookie: str | None, chosen: str | None, tmp_path: Path
) -> None:
    path = cells.write_example(_language_kind(), tmp_path, _document(header, cookie, chosen))
    tests = cells.expectations(path)
    if adapter == "engine":
        assert run_expectations(RuleSet.from_file(path)) == []
        return
    through = {
        "asgi": cells.through_asgi,
        "wsgi": cells.through_wsgi,
        "flask": cells.through_flask,
        "django": cells.through_django,
    }[adapter]
    for test, answer in zip(tests, through(path, tests), strict=True):
        cells.judge(test, answer)
        assert answer.status < 500


def _language_kind() -> Kind:
    return BY_KEY["language"]


def test_a_header_is_read_only_so_far() -> None:
    # 8 KB of ranges costs no more than MAX_RANGES of them: the rest is never parsed.
    header = ", ".join(f"x{n}" for n in range(2000))
    assert len(list(parse_ranges(header))) == MAX_RANGES
    assert Negotiator(AVAILABLE).choose(header + ", fr").tag is None


def test_every_answer_varies_and_is_private() -> None:
    ruleset = RuleSet.from_dict(
        {"rules": [{"from": "/", "language": {"available": ["en", "fr"]}, "to": "/{lang}/"}]}
    )
    decision = ruleset.resolve("GET", "http", "example.com", "/", "", {"accept-language": "fr"})
    headers = dict(decision.headers)
    assert decision.status == 302
    assert headers["Vary"] == "Accept-Language"
    assert headers["Cache-Control"] == "private, no-store"


def test_the_middleware_never_remembers_one_visitors_language() -> None:
    """The same URL three times with each language: each answer is worked out afresh."""
    app = RedirectMiddleware(
        cells.asgi_app,
        rules={"rules": [{"from": "/", "language": {"available": ["en", "fr"]}, "to": "/{lang}/"}]},
    )

    async def run() -> list[str | None]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
        seen = []
        async with httpx.AsyncClient(transport=transport) as client:
            for language in ("fr", "en", "fr", "en", "fr", "en"):
                answer = await client.get(
                    "http://example.com/", headers={"Accept-Language": language}
                )
                seen.append(answer.headers.get("location"))
        return seen

    assert asyncio.run(run()) == [f"http://example.com/{lang}/" for lang in ["fr", "en"] * 3]


@pytest.mark.parametrize(
    ("language", "extra", "words"),
    [
        pytest.param("{available: [en, fr]}", "to: /home/", "must contain {lang}", id="no-lang"),
        pytest.param("{available: []}", "to: /{lang}/", "at least one language", id="empty"),
        pytest.param("{available: [en, english]}", "to: /{lang}/", "BCP 47", id="not-bcp47"),
        pytest.param(
            "{available: [en, fr]}",
            "to: /{lang}/\n    permanent: true",
            "always temporary",
            id="permanent",
        ),
        pytest.param(
            "{available: [en], default: fr}",
            "to: /{lang}/",
            "one of available",
            id="default-not-available",
        ),
        pytest.param(
            "{available: [en], cookie: 'a b'}", "to: /{lang}/", "cookie name", id="cookie-name"
        ),
        pytest.param("{available: [en]}", "", "needs to:", id="no-target"),
    ],
)
def test_load_errors_name_file_line_and_key(
    language: str, extra: str, words: str, tmp_path: Path
) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text(
        f"version: 1\nrules:\n  - name: lang\n    from: /\n    language: {language}\n    {extra}\n"
    )
    with pytest.raises(RuleError) as raised:
        RuleSet.from_file(path)
    message = str(raised.value)
    assert words in message and f"{path}:" in message and "'lang'" in message, message


def test_explain_shows_the_negotiation(tmp_path: Path) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text(DOCUMENT)
    status, out, _ = cells.run_cli(
        "explain", str(path), "GET", "http://example.com/",
        "--header=Accept-Language: de-CH;q=0.8, fr;q=0, en;q=0.5",
    )  # fmt: skip
    assert status == 0
    assert "  de-ch;q=0.8 -> de" in out.splitlines()
    assert "  fr;q=0 -> fr" in out.splitlines()
    assert "  chosen: de, the highest q (0.8) that an available language meets: de" in out
    assert "Location: http://example.com/de/" in out
