"""``from_regex``: a rule's path condition as a regular expression, run on RE2.

Python's :mod:`re` backtracks: a pattern such as ``(a+)+$`` takes exponential time on a path
of a few dozen characters, so a rule file could let any client stall a worker. That is why
Wagtail refused regex redirects. RE2 (the ``google-re2`` package, extra ``regex``) matches in
time linear in the path whatever the pattern, and refuses the constructs that need
backtracking (back-references, look-around) when the document loads. Python's ``re`` is
never used for these patterns: not to compile them, not to match them.

The pattern must match the whole canonical path (percent-encoded, as ``from`` is matched);
its named groups are the captures a ``to`` may use, each taken from the request's own bytes.
"""

from __future__ import annotations

import importlib
from typing import Any

from redirectware._extras import require_extra

from .folding import strip_slash
from .urls import canonical_offsets

#: The extra that installs RE2, named in the error when it is missing.
EXTRA = "regex"


def load_re2() -> Any:
    """The ``re2`` module; :class:`~redirectware._extras.MissingExtra` (an ``ImportError``)
    naming the extra when it is not installed."""
    require_extra("from_regex", EXTRA, ("re2",))
    return importlib.import_module("re2")


class RegexPath:
    """A compiled ``from_regex``, matched with RE2 against canonical paths."""

    __slots__ = ("_groups", "_match", "compiled", "ignore_slash", "names", "prefix", "source")

    def __init__(
        self, source: str, compiled: Any, ignore_slash: bool = False, prefix: str = ""
    ) -> None:
        #: The pattern as written.
        self.source = source
        #: The RE2 pattern object (``re2._Regexp``): never a :class:`re.Pattern`.
        self.compiled = compiled
        self._match = compiled.fullmatch
        index: dict[str, int] = dict(compiled.groupindex)
        #: The named groups, in the order of the pattern.
        self.names = tuple(sorted(index, key=index.__getitem__))
        self._groups = tuple((name, index[name]) for name in self.names)
        #: ``trailing_slash_match: ignore``: the path's trailing slash is dropped first.
        self.ignore_slash = ignore_slash
        #: Literal text every matching path starts with: a path without it is refused by one
        #: ``startswith``, which costs a tenth of an RE2 call (rules are tried one by one).
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"RegexPath({self.source!r})"

    def match_kept(self, canonical: str, safe: str) -> dict[str, str] | None:
        """The named groups when the pattern matches all of ``canonical``, else None; each
        value taken from ``safe``, the request's own bytes (``%2f`` stays ``%2f``)."""
        if not canonical.startswith(self.prefix):
            return None
        subject = strip_slash(canonical) if self.ignore_slash else canonical
        found = self._match(subject)
        if found is None:
            return None
        offsets = None if safe == canonical else canonical_offsets(safe)
        captures: dict[str, str] = {}
        for name, group in self._groups:
            start, end = found.span(group)
            if start < 0:  # an optional group that took no part in the match
                captures[name] = ""
            elif offsets is None:
                captures[name] = safe[start:end]
            else:
                captures[name] = safe[offsets[start] : offsets[end]]
        return captures


def compile_regex(
    source: str, case_sensitive: bool = True, ignore_slash: bool = False
) -> RegexPath:
    """Compile a ``from_regex`` with RE2; ``ValueError`` says what is wrong with it,
    ``ImportError`` that RE2 is not installed."""
    re2 = load_re2()
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr itself
    options.case_sensitive = case_sensitive
    try:
        compiled = re2.compile(source, options)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(
            f"RE2 cannot compile {source!r}: {reason} (RE2 has no back-references or "
            "look-around: it matches in linear time)"
        ) from None
    if compiled.fullmatch("") is not None:
        raise ValueError(f"{source!r} matches an empty path; a path always starts with '/'")
    return RegexPath(
        source, compiled, ignore_slash, literal_prefix(source) if case_sensitive else ""
    )


#: Characters with a meaning in a pattern; the literal prefix ends before the first.
_SPECIAL = frozenset("\\^$.|?*+()[]{}")
_QUANTIFIERS = frozenset("?*+{")


def literal_prefix(source: str) -> str:
    """The literal text at the start of a pattern that every match starts with: ``/posts/``
    for ``/posts/(?P<y>\\d+)``; empty when the pattern has an alternation (``/a|/b``)."""
    if "|" in source:
        return ""
    end = 0
    while end < len(source) and source[end] not in _SPECIAL:
        end += 1
    if end < len(source) and source[end] in _QUANTIFIERS:
        end -= 1  # "/ab?" : the b is optional
    return source[: max(end, 0)]
