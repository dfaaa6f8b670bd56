"""A ``manage.py dumpdata redirects sites`` JSON: the rows of ``django.contrib.redirects``.

Django's semantics, as translated (``RedirectFallbackMiddleware``):

* a row applies only when the app answers **404**, to any method: every row is
  ``when: not_found`` (a POST then gets 308 where Django sends 301);
* ``old_path`` is compared with the request's full path (a query included) exactly: each
  row is a ``map`` row, which matches a query as written (a row without a query also
  answers a request with one, which Django's lookup would not: a note says so); the
  redirect is a **301** to ``new_path`` as written (the request's query is not added); an
  empty ``new_path`` answers 410: a gone row (``status: 410`` and no ``to``);
* the ``site`` of a row becomes its ``host`` when the dump holds that ``sites.site`` too;
  else the row has no host condition (a note says so);
* with ``APPEND_SLASH`` (Django's default), Django also tries the path with a slash added:
  a row ``/a/`` (or ``/a/?q``) also answers ``/a`` (``/a?q``) unless a row names that path;
  ``--append-slash off`` leaves it out;
* with ``--site-id`` (the project's ``SITE_ID``), that site's rows get no host condition:
  Django answers them on every host.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .result import Imported, ImportResult, Row, absolute, test_entry

SAMPLE_HOST = "example.com"


def _line_of(text: str, pk: Any) -> int:
    """The line of the redirect row ``pk`` (dumpdata writes "model" before "pk", and a site
    may have the same pk)."""
    key = r'"pk"\s*:\s*' + re.escape(json.dumps(pk)) + r"\b"
    match = re.search(r'"model"\s*:\s*"redirects\.redirect"\s*,\s*' + key, text) or re.search(
        key, text
    )
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _slash_added(old: str) -> str | None:
    """The request path (with its query) that Django's ``APPEND_SLASH`` second try sends to
    the row ``old``: ``/a?q`` for ``/a/?q`` (``get_full_path(force_append_slash=True)``
    of a request whose path does not end with ``/``); None when no such request exists."""
    path, mark, query = old.partition("?")
    if not path.endswith("/") or path == "/" or path.endswith("//"):
        return None
    return path[:-1] + mark + query


def parse(
    text: str, source: str, *, site_id: int | None = None, append_slash: bool = True
) -> ImportResult:
    """The JSON of ``dumpdata redirects`` (with ``sites`` for the hosts).

    ``site_id`` is the project's ``SITE_ID``: Django then answers that site's rows on every
    host, so they get no host condition. ``append_slash`` is its ``APPEND_SLASH`` (Django's
    default is on): a request without a trailing slash that no row names is looked up again
    with one, so each row ``/a/`` also answers ``/a``."""
    result = ImportResult("django", source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{source}: not valid JSON: {error}") from None
    if not isinstance(data, list):
        raise ValueError(f"{source}: not a dumpdata list")
    sites = {entry.get("pk"): entry.get("fields", {}).get("domain")
             for entry in data if entry.get("model") == "sites.site"}  # fmt: skip
    redirects = [entry for entry in data if entry.get("model") == "redirects.redirect"]
    # Django's first lookup is the full path as sent: a row naming it wins over another
    # row's slash-added second try, whatever their order.
    named = {(entry.get("fields", {}).get("site"), entry.get("fields", {}).get("old_path"))
             for entry in redirects}  # fmt: skip
    hostless = False
    for entry in redirects:
        fields = entry.get("fields", {})
        line = _line_of(text, entry.get("pk"))
        old, new = str(fields.get("old_path", "")), str(fields.get("new_path", ""))
        shown = f"redirect {entry.get('pk')}: {old} -> {new or '(gone)'}"
        if not old.startswith("/"):
            result.lose(line, shown, "old_path does not start with '/'")
            continue
        site = fields.get("site")
        host = None if site_id is not None and site == site_id else sites.get(site)
        hostless = hostless or (host is None and (site_id is None or site != site_id))
        rule: dict[str, Any] = {"name": f"django-{entry.get('pk')}"}
        if host:
            rule["host"] = host
        keys = [old]
        second = _slash_added(old) if append_slash else None
        if second is not None and (site, second) not in named:
            keys.append(second)
        # Map rows, not a from: old_path may hold a query, which only a map row matches.
        rows = [{"from": key, "to": new} if new else {"from": key, "status": 410} for key in keys]
        rule.update({"map": rows, "status": 301, "keep_query": False, "when": "not_found"})
        origin = host or SAMPLE_HOST
        tests = [
            test_entry(
                "GET",
                f"https://{origin}{key}",
                301 if new else 410,
                absolute(new, "https", origin) if new else None,
                not_found=True,
            )
            for key in keys
        ]
        options: dict[str, Any] = {"keep_query": False, "when": "not_found"}
        if host:
            options["host"] = host
        item = Imported(result.source, line, shown, [rule], tests,
                        [Row(key, new, 301 if new else 410) for key in keys], options)  # fmt: skip
        result.items.append(item)
    if hostless:
        result.notes.append(f"{source}: the dump holds no sites.site for some rows: those "
                            "rows have no host condition (dump 'sites' too)")  # fmt: skip
    result.notes.append(
        f"{source}: a row without a query also answers a request with one (Django's full-path "
        "lookup would not): a map row matches its path whatever the query"
    )
    result.notes.append(
        "APPEND_SLASH's second try (a row /a/ also answers /a) is translated, as Django's "
        "default APPEND_SLASH = True does; --append-slash off if your project turns it off"
        if append_slash
        else "APPEND_SLASH is off: a row /a/ answers /a/ only"
    )
    return result
