"""``language``: send a visitor to their language, safely: ``/`` to ``/fr/``.

Every pitfall of the usual language redirects has its answer here: the redirect is temporary
and ``private, no-store`` with ``Vary: Accept-Language`` (and ``Cookie``), so no cache serves
one visitor's language to the next; a request that names no language (most crawlers) is not
redirected unless a ``default`` says so; only GET and HEAD are redirected, so no body is ever
re-sent; ``q=0`` excludes; ``pt-BR`` falls back to ``pt``. The negotiation itself runs at
request time in :mod:`redirectware.engine.language`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from redirectware.document.fields import Where, as_mapping, as_str_list, as_target, check_keys
from redirectware.engine.language import Negotiator, parse_ranges
from redirectware.engine.model import Action, LanguageAction, Rule
from redirectware.kinds.base import (
    Imported,
    Key,
    Kind,
    Refuses,
    RuleContext,
    Surface,
    Unsayable,
    everywhere,
)
from redirectware.kinds.to import check_placeholders

LANGUAGE_KEYS = frozenset({"available", "cookie", "default"})
#: A BCP 47 tag as sites name their languages: language, then script, region or variants.
_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{5,8})*\Z")
_COOKIE_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


def parse_language(node: Mapping[str, Any], where: Where, rule: RuleContext) -> Action:
    """``language: {available, cookie, default}`` with the rule's ``to``, which holds
    ``{lang}``."""
    for key in ("permanent", "status"):
        if key in node:
            where.fail(key, "a language redirect is always temporary: a visitor may choose "
                       "another language tomorrow, and a cached permanent redirect would "
                       "send them back")  # fmt: skip
    spec = as_mapping(node["language"], where, "language")
    inner = where.inner(spec, "language")
    check_keys(spec, LANGUAGE_KEYS, inner)
    if "available" not in spec:
        inner.fail(None, "needs available: the languages of the site, e.g. [en, fr, de]")
    available = tuple(as_str_list(spec["available"], inner, "available"))
    if not available:
        inner.fail("available", "must name at least one language")
    for tag in available:
        if not _TAG.match(tag):
            inner.fail("available", f"{tag!r} is not a BCP 47 language tag (en, fr, pt-BR)")
    negotiator = Negotiator(available)
    if len({tag.lower() for tag in available}) != len(available):
        inner.fail("available", "names a language twice")
    cookie = spec.get("cookie")
    if cookie is not None and (not isinstance(cookie, str) or not _COOKIE_NAME.match(cookie)):
        inner.fail("cookie", f"must be a cookie name, got {cookie!r}")
    default = spec.get("default")
    if default is not None:
        chosen = negotiator.offered(default) if isinstance(default, str) else None
        if chosen is None:
            inner.fail("default", f"must be one of available, got {default!r}")
        default = chosen
    if "to" not in node:
        where.fail("language", "needs to: the target, with {lang}, e.g. to: /{lang}/")
    target = as_target(node["to"], where, "to")
    if "lang" not in target.names:
        where.fail("to", "must contain {lang}, where the chosen language goes")
    for template in (rule.path, rule.regex, rule.host):
        if template is not None and "lang" in template.names:
            where.fail("to", "{lang} is the chosen language: name the capture otherwise")
    check_placeholders(target, rule.path or rule.regex, rule.host, where, "to", frozenset({"lang"}))
    return LanguageAction(target, negotiator, cookie, default)


def _rule_fields(action: Action) -> Mapping[str, Any]:
    assert isinstance(action, LanguageAction)
    read = ("Accept-Language", "Cookie") if action.cookie is not None else ("Accept-Language",)
    return {"vary": read, "private": True}


def explain_negotiation(rule: Rule, headers: Mapping[str, str]) -> list[str]:
    """The negotiation for one request: each range and its q, the cookie, the choice, why."""
    action = rule.action
    if not isinstance(action, LanguageAction):
        return []
    header = headers.get("accept-language")
    lines = [f"language: Accept-Language: {header!r}" if header else
             "language: no Accept-Language header"]  # fmt: skip
    for item in list(parse_ranges(header or ""))[:10]:
        found = next(iter(action.negotiator.lookup(item.tag)), None)
        meets = action.negotiator.available[found] if found is not None else "no language"
        lines.append(f"  {item.tag};q={item.quality:g} -> {meets}")
    if action.cookie is not None:
        value = _cookie(headers.get("cookie", ""), action.cookie)
        offered = None if value is None else action.negotiator.offered(value)
        lines.append(
            f"  cookie {action.cookie}: {value!r}"
            + (f" -> {offered} (the visitor's own choice wins)" if offered else " (not used)")
        )
    choice = action.negotiator.choose(header)
    chosen = action.choose(header, {action.cookie: value} if action.cookie and value else None)
    if chosen is None:
        lines.append("  chosen: none: the rule does not apply and the app serves the page")
    elif action.cookie and value and action.negotiator.offered(value) == chosen:
        lines.append(f"  chosen: {chosen}, from the cookie")
    elif choice.tag is None:
        lines.append(f"  chosen: {chosen}, the default ({choice.why})")
    else:
        lines.append(f"  chosen: {chosen}, {choice.why}")
    return lines


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"')
    return None


_EDGE = (
    "an edge server cannot negotiate Accept-Language as this rule does (q-values, fallback, "
    "the cookie, Vary): serve it from the middleware"
)
_NONE = "the source format has no language negotiation"

KIND = Kind(
    key="language",
    role="action",
    title="The visitor's language: language",
    summary=(
        "Sends a GET or HEAD request to the visitor's language: `{lang}` in `to` becomes the "
        "`available` entry that `Accept-Language` asks for (q-values honoured, `q=0` "
        "excludes, `pt-BR` falls back to `pt`, `*` takes the first available; among equal q "
        "the order of `available` decides), or the one a `cookie` holds. The answer is a "
        "temporary redirect with `Vary: Accept-Language` (and `Cookie`) and "
        "`Cache-Control: private, no-store`. A request naming no available language, most "
        "crawlers among them, is not redirected (the app serves the page) unless `default` "
        "says where; any other method passes through. Never permanent."
    ),
    keys=(
        Key(
            "language.available",
            "list of BCP 47 tags",
            "(required)",
            "the site's languages, in its order of preference",
        ),
        Key(
            "language.cookie",
            "cookie name",
            "none",
            "a language the visitor chose, which "
            "wins over the header (an unknown value is ignored)",
        ),
        Key(
            "language.default",
            "one of available",
            "none: no redirect",
            "where a request naming no available language goes",
        ),
        Key("to", "path or URL template with {lang}", "(required)", "the target"),
    ),
    example="""\
version: 1
rules:
  - name: language
    from: /
    language:
      available: [en, fr, de, pt-BR]
      cookie: django_language
    to: /{lang}/
tests:
  - request: GET http://example.com/
    headers: {Accept-Language: "fr-CH, fr;q=0.9, en;q=0.8"}
    expect:
      status: 302
      location: /fr/
      headers: {Vary: "Accept-Language, Cookie", Cache-Control: "private, no-store"}
  - request: GET http://example.com/
    headers: {Accept-Language: "pt-br, en;q=0.5"}
    expect: {status: 302, location: /pt-BR/}
  - request: GET http://example.com/
    headers: {Accept-Language: "de;q=0, *;q=0.5"}
    expect: {status: 302, location: /en/}
  - request: GET http://example.com/
    headers: {Accept-Language: fr, Cookie: django_language=de}
    expect: {status: 302, location: /de/}
  - request: GET http://example.com/
    expect: pass
  - request: POST http://example.com/
    headers: {Accept-Language: fr}
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: language
    from: /
    language: {available: [en, fr]}
    to: /home/
""",
        "must contain {lang}",
    ),
    surfaces=everywhere(
        export_nginx=Refuses(_EDGE),
        export_caddy=Refuses(_EDGE),
        export_apache=Refuses(_EDGE),
        export_cloudflare=Refuses(_EDGE),
        export_netlify=Refuses(_EDGE),
        import_netlify=Refuses(
            "a Language= line redirects whoever names that language, with no Vary, q-values "
            "or fallback: write a language rule for the site's languages instead"
        ),
        import_vercel=Unsayable("vercel.json matches a header's text, it does not negotiate"),
        import_nginx=Unsayable("nginx matches a header's text, it does not negotiate"),
        import_apache=Unsayable("mod_negotiation chooses files, it does not redirect"),
        import_cloudflare=Unsayable(_NONE),
        import_django=Unsayable(_NONE),
        import_wagtail=Unsayable(_NONE),
    ),
    imports={
        Surface.IMPORT_NETLIFY: Imported("/  /fr/  302  Language=fr\n", ()),
    },
    surface_examples={
        # A log holds no Accept-Language: with a default, a request naming none is redirected.
        Surface.REPLAY: """\
version: 1
rules:
  - name: language
    from: /
    language: {available: [en, fr], default: en}
    to: /{lang}/
tests:
  - request: GET http://example.com/
    expect: {status: 302, location: /en/}
  - request: GET http://example.com/about
    expect: pass
""",
    },
    takes=("to",),
    rule_fields=_rule_fields,
    explain_request=explain_negotiation,
    parse=parse_language,
    action=LanguageAction,
)
