"""Proposing a redirect for each 404: ``redirectware suggest``.

Given the paths people ask for that now 404 (with how often) and the site's live URLs, it
proposes, in this order:

1. **Renamed prefixes** as one template rule: when many 404s are ``/OLD/rest`` and the live
   site has ``/NEW/rest`` for the same ``rest`` (``/documentation/x/y`` → ``/docs/x/y``), one
   ``from: /OLD/{rest:path}`` rule replaces thousands of rows.
2. **Migration rules**, score 100: the same path but for a changed or dropped extension
   (``/about.html`` → ``/about/``), a date dropped from a blog path
   (``/blog/2019/05/hello`` → ``/blog/hello``), letter case or a trailing slash.
3. **Fuzzy matches** (rapidfuzz): the live URL whose last segment (the slug) and whole path
   are most alike, scored 0 to 100. A match whose runner-up is almost as good is ambiguous: it
   is kept for a person, whatever its score.

Suggestions at or above the threshold become map rows; the rest are listed for a person.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from redirectware._extras import require_extra

#: A template rule is proposed for a prefix shared by at least this many 404s.
MIN_TEMPLATE = 3
#: A fuzzy match this close to its runner-up (a different URL) is ambiguous.
AMBIGUOUS_GAP = 3.0
DEFAULT_THRESHOLD = 85.0

_DATE_PARTS = re.compile(
    r"/(?:19|20)\d\d(?:/(?:0?[1-9]|1[0-2]))?(?:/(?:0?[1-9]|[12]\d|3[01]))?(?=/)"
)
_EXTENSION = re.compile(r"\.(?:s?html?|php\d?|aspx?|jsp|cgi|cfm)$", re.IGNORECASE)
_INDEX = re.compile(r"/(?:index|default)\.(?:s?html?|php\d?|aspx?|jsp)$", re.IGNORECASE)
_WORDS = re.compile(r"[-_.+\s]+")


@dataclass(frozen=True)
class Suggestion:
    """``source`` (a 404 path) most likely meant ``target``; ``why`` says by which rule."""

    source: str
    target: str | None
    score: float
    why: str
    requests: int = 0
    #: The runner-up (another URL) scored almost as well: a person should choose.
    ambiguous: bool = False


@dataclass(frozen=True)
class TemplateRule:
    """One rule for many 404s: ``/OLD/{rest:path}`` → ``/NEW/{rest}``."""

    old_prefix: str
    new_prefix: str
    covers: tuple[str, ...]
    requests: int

    @property
    def source(self) -> str:
        """The rule's ``from``."""
        return f"{self.old_prefix}/{{rest:path}}"

    @property
    def target(self) -> str:
        """The rule's ``to``."""
        return f"{self.new_prefix}/{{rest}}"


@dataclass
class Suggestions:
    """What :func:`suggest` found: rules, rows at or above the threshold, the rest."""

    templates: list[TemplateRule]
    accepted: list[Suggestion]
    review: list[Suggestion]


def _normal(path: str) -> str:
    return path.lower().rstrip("/") or "/"


def _slug(path: str) -> str:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return _WORDS.sub(" ", _EXTENSION.sub("", last)).strip().lower()


def _migrations(path: str) -> Iterable[tuple[str, str]]:
    """Forms ``path`` may have on the live site, each with the rule that makes it."""
    yield path, "letter case or trailing slash"
    if _INDEX.search(path):
        yield _INDEX.sub("/", path), "index file dropped"
    if _EXTENSION.search(path):
        yield _EXTENSION.sub("", path), "extension dropped"
    stem, dot, _ = path.rpartition(".")
    if dot and "/" not in path[len(stem) :] and not stem.endswith("/"):  # "/.env": no stem
        yield stem, "extension changed"
    undated = _DATE_PARTS.sub("", path)
    if undated != path:
        yield undated, "date dropped from the path"
        if _EXTENSION.search(undated):
            yield _EXTENSION.sub("", undated), "date and extension dropped"


def _templates(
    not_found: Mapping[str, int], live: Iterable[str], minimum: int
) -> list[TemplateRule]:
    """Prefixes (one leading segment) renamed for many 404s at once."""
    live_by_rest: dict[str, set[str]] = defaultdict(set)
    for path in live:
        prefix, rest = _split_first(path)
        if prefix and rest:
            live_by_rest[rest].add(prefix)
    votes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in not_found:
        prefix, rest = _split_first(path)
        for new in live_by_rest.get(rest, ()) if prefix and rest else ():
            if new != prefix:
                votes[(prefix, new)].append(path)
    rules: list[TemplateRule] = []
    taken: set[str] = set()
    for (old, new), paths in sorted(votes.items(), key=lambda item: -len(item[1])):
        fresh = [p for p in paths if p not in taken]
        if len(fresh) >= minimum and all(rule.old_prefix != old for rule in rules):
            taken.update(fresh)
            requests = sum(not_found[p] for p in fresh)
            rules.append(TemplateRule(old, new, tuple(sorted(fresh)), requests))
    return rules


def _split_first(path: str) -> tuple[str, str]:
    """``/docs/a/b`` → (``/docs``, ``a/b``)."""
    parts = path.split("/", 2)
    if len(parts) < 3 or not parts[1]:
        return "", ""
    return "/" + parts[1], parts[2]


def suggest(
    not_found: Mapping[str, int],
    live_urls: Iterable[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_template: int = MIN_TEMPLATE,
) -> Suggestions:
    """Propose a live path for each 404 path (``not_found`` maps each to its count).

    :param live_urls: the site's live paths (``/docs/``; a sitemap's URLs reduced to paths).
    :param threshold: suggestions scoring at least this are accepted, the rest reviewed.
    """
    require_extra("redirectware suggest", "suggest", ("rapidfuzz",))
    live = sorted(set(live_urls))
    live_set = set(live)
    by_normal: dict[str, str] = {}
    for path in live:
        by_normal.setdefault(_normal(path), path)
    templates = _templates(not_found, live, min_template)
    covered = {path for rule in templates for path in rule.covers}
    slugs = [_slug(path) for path in live]
    accepted: list[Suggestion] = []
    review: list[Suggestion] = []
    for path, count in sorted(not_found.items(), key=lambda item: (-item[1], item[0])):
        if path in covered or path in live_set:
            continue
        found = next(
            (
                Suggestion(path, by_normal[_normal(form)], 100.0, why, count)
                for form, why in _migrations(path)
                if _normal(form) in by_normal and by_normal[_normal(form)] != path
            ),
            None,
        )
        if found is None:
            found = _fuzzy(path, count, live, slugs)
        good = found.target is not None and found.score >= threshold and not found.ambiguous
        (accepted if good else review).append(found)
    return Suggestions(templates, accepted, review)


def _fuzzy(path: str, count: int, live: list[str], slugs: list[str]) -> Suggestion:
    from rapidfuzz import fuzz, process

    if not live:
        return Suggestion(path, None, 0.0, "no live URLs", count)
    slug = _slug(path)
    # The slug says what a page is about; the whole path where it lives. Best five by slug,
    # then scored on both.
    best = process.extract(slug, slugs, scorer=fuzz.token_sort_ratio, limit=5)
    scored = sorted(
        (
            (0.7 * slug_score + 0.3 * fuzz.ratio(path.lower(), live[index].lower()), live[index])
            for _, slug_score, index in best
        ),
        reverse=True,
    )
    score, target = scored[0]
    if len(scored) > 1 and scored[0][0] - scored[1][0] < AMBIGUOUS_GAP:
        why = f"similar path; {scored[1][1]} scores {scored[1][0]:.0f} too"
        return Suggestion(path, target, round(score, 1), why, count, ambiguous=True)
    return Suggestion(path, target, round(score, 1), "similar path", count)
