"""``redirectware suggest --not-found ... --urls ...``: a redirect proposed for each 404.

Reads the 404s from the JSON of ``redirectware replay --json`` (its ``not_found`` list), a
JSON list of paths (or of ``{"path": ..., "requests": ...}``), or access logs (their 404
lines); the live URLs from a sitemap (``sitemap.xml``, a sitemap index's children when they
are files beside it) or a text file of URLs or paths, one per line. Writes into ``--out``:

* ``suggested-map.csv``: ``from,to``, the accepted suggestions: it loads as a ``map`` exactly
  as written (scores are kept out of it, in the report);
* ``suggested-redirects.yaml``: a rule document with the template rules, a ``map`` rule for
  the CSV, and a ``tests:`` entry pinning every suggestion: ``redirectware check`` runs them;
* ``review.csv``: ``from,candidate,score,why,requests``: every suggestion, accepted or not,
  with its score, for a person to read; below the threshold, theirs to decide.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from redirectware._extras import require_extra
from redirectware.tools.accesslog import AUTO, STATUS, TARGET, decompressed, unescape
from redirectware.tools.suggest import Suggestion, Suggestions, suggest

from . import UsageError

_SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def read_not_found(path: Path) -> dict[str, int]:
    """404 paths and their counts, from JSON or an access log."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    with path.open("rb") as raw:
        if raw.read(64).lstrip()[:1] in (b"{", b"["):
            return _not_found_json(path)
        raw.seek(0)
        with decompressed(raw) as stream:
            return _not_found_log(stream)


def _not_found_json(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: not JSON: {error}") from None
    items = data.get("not_found") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise UsageError(f"{path}: expected a list of paths, or replay's JSON with not_found")
    found: dict[str, int] = {}
    for item in items:
        if isinstance(item, str):
            found[item] = found.get(item, 0) + 1
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            found[item["path"]] = found.get(item["path"], 0) + int(item.get("requests", 1))
        else:
            raise UsageError(f"{path}: each entry must be a path or {{path, requests}}: {item!r}")
    return found


def _not_found_log(stream: Iterable[bytes]) -> dict[str, int]:
    found: dict[str, int] = {}
    formats = (AUTO, *AUTO.fallbacks)
    for line in stream:
        for fmt in formats:
            match = fmt.pattern.match(line)
            if match is None:
                continue
            fields = dict(zip(fmt.key_fields, match.group(*fmt.key_groups), strict=True))
            if fields[STATUS] == b"404":
                parts = fields.get("request", b"").split(b" ")
                target = parts[1] if len(parts) in (2, 3) else fields.get(TARGET, b"")
                text = unescape(target).decode("latin-1").partition("?")[0]
                if text.startswith("/"):
                    found[text] = found.get(text, 0) + 1
            break
    return found


def read_live_urls(path: Path) -> list[str]:
    """The live paths, from a sitemap or a list of URLs."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    text = path.read_bytes()
    if text.lstrip().startswith(b"<"):
        return _sitemap_paths(path)
    lines = text.decode("utf-8", "replace").splitlines()
    return [_path_of(line.strip()) for line in lines if line.strip() and not line.startswith("#")]


def _sitemap_paths(path: Path) -> list[str]:
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise UsageError(f"{path}: not a sitemap: {error}") from None
    locations = [(loc.text or "").strip() for loc in root.iter(f"{_SITEMAP}loc")]
    if root.tag == f"{_SITEMAP}sitemapindex":
        paths: list[str] = []
        for location in locations:
            child = path.parent / Path(urlsplit(location).path).name
            if child.is_file():
                paths += _sitemap_paths(child)
        return paths
    return [_path_of(location) for location in locations if location]


def _path_of(url: str) -> str:
    path = urlsplit(url).path if "://" in url else url.partition("?")[0]
    return path or "/"


def run_suggest(
    not_found: Path,
    urls: Path,
    out: Path | None,
    *,
    threshold: float,
    min_template: int,
    host: str,
    permanent: bool,
) -> int:
    """Suggest, write the files into ``out`` (when given), print a summary; return 0."""
    # Before reading the inputs (an access log may take minutes): without rapidfuzz the
    # command stops at once, with the one line that says what to install.
    require_extra("fuzzy matching", "suggest", ("rapidfuzz",))
    found = suggest(
        read_not_found(not_found),
        read_live_urls(urls),
        threshold=threshold,
        min_template=min_template,
    )
    if out is not None:
        write_files(found, out, host=host, permanent=permanent)
    print(summary(found, out, threshold))
    return 0


def write_files(found: Suggestions, out: Path, *, host: str, permanent: bool) -> None:
    """``suggested-map.csv``, ``suggested-redirects.yaml`` and ``review.csv`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "suggested-map.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["from", "to"])
        writer.writerows([s.source, s.target] for s in found.accepted)
    status = 301 if permanent else 302
    rules: list[dict[str, object]] = [
        {
            "name": f"renamed-{rule.old_prefix.strip('/')}",
            "from": rule.source,
            "to": rule.target,
            "permanent": permanent,
        }
        for rule in found.templates
    ]
    tests: list[dict[str, object]] = [
        _test(host, path, rule.new_prefix + path[len(rule.old_prefix) :], status)
        for rule in found.templates
        for path in rule.covers
    ]
    if found.accepted:
        rules.append({"name": "suggested", "map": "suggested-map.csv", "permanent": permanent})
        tests += [_test(host, s.source, s.target or "", status) for s in found.accepted]
    document = {"version": 1, "rules": rules, "tests": tests}
    header = (
        "# Written by `redirectware suggest`: read it, then copy what you keep into your rules.\n"
        "# `redirectware check suggested-redirects.yaml` runs the tests below.\n"
    )
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    (out / "suggested-redirects.yaml").write_text(header + text, encoding="utf-8")
    with (out / "review.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["from", "candidate", "score", "why", "requests", "accepted"])
        for s in found.accepted + found.review:
            accepted = "yes" if s in found.accepted else "no"
            writer.writerow([s.source, s.target or "", s.score, s.why, s.requests, accepted])


def _test(host: str, source: str, target: str, status: int) -> dict[str, object]:
    return {
        "request": f"GET http://{host}{source}",
        "expect": {"status": status, "location": f"http://{host}{target}"},
    }


def _line(s: Suggestion) -> str:
    target = s.target or "(nothing alike)"
    return f"  {s.score:5.1f}  {s.source} -> {target}  ({s.why}; {s.requests:,} requests)"


def summary(found: Suggestions, out: Path | None, threshold: float) -> str:
    """What was suggested, for a person."""
    lines = [f"template rules ({len(found.templates)}):"]
    lines += [
        f"  {rule.source} -> {rule.target}  ({len(rule.covers):,} paths, "
        f"{rule.requests:,} requests)"
        for rule in found.templates
    ] or ["  (none)"]
    lines += ["", f"accepted (score >= {threshold:g}): {len(found.accepted):,}"]
    lines += [_line(s) for s in found.accepted[:20]]
    lines += ["", f"for a person to decide: {len(found.review):,}"]
    lines += [_line(s) for s in found.review[:20]]
    if out is not None:
        lines += [
            "",
            f"wrote {out / 'suggested-map.csv'}, {out / 'suggested-redirects.yaml'}, "
            f"{out / 'review.csv'}",
        ]
    return "\n".join(lines)
