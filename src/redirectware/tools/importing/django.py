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
* with ``APPEND_SLASH``, Django also tries the path with a slash added: not known from a
  dump, so not translated (a note says so).
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


def parse(text: str, source: str) -> ImportResult:
    """The JSON of ``dumpdata redirects`` (with ``sites`` for the hosts)."""
    result = ImportResult("django", source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{source}: not valid JSON: {error}") from None
    if not isinstance(data, list):
        raise ValueError(f"{source}: not a dumpdata list")
    sites = {entry.get("pk"): entry.get("fields", {}).get("domain")
             for entry in data if entry.get("model") == "sites.site"}  # fmt: skip
    hostless = False
    for entry in data:
        if entry.get("model") != "redirects.redirect":
            continue
        fields = entry.get("fields", {})
        line = _line_of(text, entry.get("pk"))
        old, new = str(fields.get("old_path", "")), str(fields.get("new_path", ""))
        shown = f"redirect {entry.get('pk')}: {old} -> {new or '(gone)'}"
        if not old.startswith("/"):
            result.lose(line, shown, "old_path does not start with '/'")
            continue
        host = sites.get(fields.get("site"))
        hostless = hostless or host is None
        rule: dict[str, Any] = {"name": f"django-{entry.get('pk')}"}
        if host:
            rule["host"] = host
        # A map row, not a from: old_path may hold a query, which only a map row matches.
        row: dict[str, Any] = {"from": old, "to": new} if new else {"from": old, "status": 410}
        rule.update({"map": [row], "status": 301, "keep_query": False, "when": "not_found"})
        origin = host or SAMPLE_HOST
        url = f"https://{origin}{old}"
        test = test_entry("GET", url, 301 if new else 410,
                          absolute(new, "https", origin) if new else None,
                          not_found=True)  # fmt: skip
        options: dict[str, Any] = {"keep_query": False, "when": "not_found"}
        if host:
            options["host"] = host
        item = Imported(result.source, line, shown, [rule], [test],
                        [Row(old, new, 301 if new else 410)], options)  # fmt: skip
        result.items.append(item)
    if hostless:
        result.notes.append(f"{source}: the dump holds no sites.site for some rows: those "
                            "rows have no host condition (dump 'sites' too)")  # fmt: skip
    result.notes.append(
        f"{source}: a row without a query also answers a request with one (Django's full-path "
        "lookup would not): a map row matches its path whatever the query"
    )
    result.notes.append(
        "APPEND_SLASH's second try (the path with a slash added) is not translated: add "
        "those rows if your project has APPEND_SLASH on"
    )
    return result
