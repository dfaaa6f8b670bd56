"""Cloudflare's Bulk Redirects list as CSV: ``source_url, target_url, status_code,
preserve_query_string, include_subdomains, subpath_matching, preserve_path_suffix``
(positional, as Cloudflare's CSV upload reads it; a header row naming them is allowed).

Cloudflare's semantics, as translated (its documentation of the URL redirect parameters):

* the status defaults to **301**; booleans default to false but ``preserve_path_suffix``
  (true);
* a source without a scheme matches http and https; with one, only that scheme;
* ``include_subdomains`` also matches every subdomain (a second rule, ``*.host``);
* ``subpath_matching`` also matches every path below the source path (``/foo`` and
  ``/foo/bar``, never ``/foobar``), appending the rest to the target when
  ``preserve_path_suffix``;
* the request's query is dropped unless ``preserve_query_string``;
* Cloudflare picks the **most specific** redirect, not the first: exact sources before
  subpath ones, longer paths first, an exact host before ``include_subdomains``. The rules
  are written in that order. Exact rows on one host become one ``map`` (a CSV beside the
  document when long).
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlsplit

from .result import Imported, ImportResult, Row, absolute, fill, test_entry

COLUMNS = (
    "source_url", "target_url", "status_code", "preserve_query_string",
    "include_subdomains", "subpath_matching", "preserve_path_suffix",
)  # fmt: skip
_DEFAULTS = {"status_code": "301", "preserve_query_string": "false",
             "include_subdomains": "false", "subpath_matching": "false",
             "preserve_path_suffix": "true"}  # fmt: skip
_KEPT = (301, 302, 307, 308)


def _bool(value: str) -> bool:
    text = value.strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


def parse(text: str, source: str) -> ImportResult:
    """A Bulk Redirects CSV."""
    result = ImportResult("cloudflare", source)
    entries: list[tuple[tuple[int, int, int], Imported]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        raw = ",".join(row)
        if row[0].strip().lower() == "source_url":
            continue
        fields = dict(_DEFAULTS)
        fields.update({name: value for name, value in zip(COLUMNS, row, strict=False) if value})
        try:
            item, order = _translate(result, number, raw, fields)
        except ValueError as error:
            result.lose(number, raw, str(error))
            continue
        entries.append((order, item))
    # Most specific first (a stable sort keeps the file's order among equals).
    result.items = [item for _, item in sorted(entries, key=lambda entry: entry[0])]
    return result


def _translate(
    result: ImportResult, number: int, raw: str, fields: dict[str, str]
) -> tuple[Imported, tuple[int, int, int]]:
    status = int(fields["status_code"]) if fields["status_code"].strip().isdigit() else 0
    if status not in _KEPT:
        raise ValueError(f"status {fields['status_code']!r} is not a redirect redirectware sends")
    keep = _bool(fields["preserve_query_string"])
    subdomains = _bool(fields["include_subdomains"])
    subpath = _bool(fields["subpath_matching"])
    suffix = _bool(fields["preserve_path_suffix"])
    text = fields["source_url"].strip()
    parts = urlsplit(text if "://" in text else "//" + text)
    if not parts.hostname:
        raise ValueError("the source URL has no host")
    if parts.query or parts.fragment:
        raise ValueError("a query or fragment in the source URL is not translated")
    path = parts.path or "/"
    if "{" in path or "}" in path:
        raise ValueError("a brace in the source path")
    target = fields["target_url"].strip()
    if not target.startswith(("http://", "https://", "/")):
        raise ValueError("the target URL must be absolute")
    hosts = [parts.hostname] + ([f"*.{parts.hostname}"] if subdomains else [])
    scheme = parts.scheme or None
    spellings: list[tuple[str, str]] = [(path, target)]
    if subpath:
        stem, sep = (path, "") if path.endswith("/") else (path, "/")
        below = f"{stem}{sep}{{rest:path}}"
        joined = target.rstrip("/") + "/{rest}" if sep else target + "{rest}"
        spellings = [(below, joined if suffix else target)]
        if sep:
            spellings.insert(0, (path, target))
    rules: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    for host in hosts:
        for template, to in spellings:
            rule: dict[str, Any] = {"name": f"cloudflare-{number}-{len(rules) + 1}",
                                    "host": host}  # fmt: skip
            if scheme:
                rule["scheme"] = scheme
            rule.update({"from": template, "to": to, "status": status})
            if not keep:
                rule["keep_query"] = False
            rules.append(rule)
            sample, values = fill(template)
            location = to.replace("{rest}", values.get("rest", ""))
            request_host = host.replace("*.", "sub.")
            request_scheme = scheme or "https"
            url = f"{request_scheme}://{request_host}{sample}"
            tests.append(test_entry("GET", url, status,
                                    absolute(location, request_scheme, request_host)))  # fmt: skip
    exact = not subpath and not subdomains
    options: dict[str, Any] = {"host": parts.hostname}
    if scheme:
        options["scheme"] = scheme
    if not keep:
        options["keep_query"] = False
    item = Imported(result.source, number, raw, rules, tests,
                    [Row(path, target, status)] if exact else None, options)  # fmt: skip
    # Most specific first: exact before subpath, longer paths first, exact host first.
    order = (1 if subpath else 0, -len(path), 1 if subdomains else 0)
    return item, order
