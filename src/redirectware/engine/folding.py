"""Case folding of canonical paths, for rules with ``case_sensitive: false``; and the
*normal form* such a rule, or one with ``trailing_slash_match: ignore``, matches against.

A case-insensitive rule matches the *folded* form of the canonical path: ASCII letters
lower-cased, and each UTF-8 character written as percent-escapes decoded, lower-cased with
:meth:`str.lower` and encoded again (upper-case hex, as the canonical form has it), so that
``/CAF%C3%89``, ``/Caf%c3%a9`` and a rule written as ``/café`` are one path. The folded form is
itself canonical, so folded rule literals file into the same kind of index as any other.

Captures must still keep the request's own bytes: :func:`fold_kept` also says where each
folded character came from in the canonical form. Lower-casing a non-ASCII character may
change its length (``İ`` becomes ``i`` and a combining dot), so the map is not always the
identity.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .urls import UNRESERVED, canonical_literal

# A run of percent-escapes in a canonical path: possibly a UTF-8 character (or several).
_ESCAPES = re.compile(r"((?:%[0-9A-F]{2})+)")
_PLACEHOLDER = re.compile(r"(\{[^{}]*\})")
#: How many folded forms of request paths are kept: a request asks once per rule it tries.
FOLD_CACHE = 1024


def _encode(text: str) -> str:
    """``text`` as the canonical form writes it: unreserved ASCII raw, the rest escaped."""
    return "".join(
        char if char in UNRESERVED else "".join(f"%{b:02X}" for b in char.encode("utf-8"))
        for char in text
    )


def _fold_run(run: str) -> list[tuple[str, int]]:
    """A run of escapes folded, as ``(folded text, length in the run)`` per character."""
    raw = bytes.fromhex(run.replace("%", ""))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [(run, len(run))]  # not UTF-8: bytes have no case
    return [(_encode(char.lower()), 3 * len(char.encode("utf-8"))) for char in text]


@lru_cache(maxsize=FOLD_CACHE)
def fold_kept(canonical: str) -> tuple[str, tuple[int, ...] | None]:
    """The folded form of a canonical path, and where each of its characters came from in
    ``canonical`` (one entry per character plus one for the end; None when it is the
    identity, as for every path without a non-ASCII character that changes length)."""
    if "%" not in canonical:
        return canonical.lower(), None
    pieces = _ESCAPES.split(canonical)
    out: list[str] = []
    offsets: list[int] = []
    position = 0
    identity = True
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            out.append(piece.lower())
            offsets.extend(range(position, position + len(piece)))
            position += len(piece)
            continue
        for folded, length in _fold_run(piece):
            out.append(folded)
            if len(folded) == length:
                offsets.extend(range(position, position + length))
            else:
                # Each character of a folded character that changed length points at the
                # start of the original: a capture never starts or ends inside one.
                identity = False
                offsets.extend([position] * len(folded))
            position += length
    offsets.append(position)
    return "".join(out), None if identity else tuple(offsets)


def fold(canonical: str) -> str:
    """The folded form of a canonical path (see the module docstring)."""
    return fold_kept(canonical)[0]


def strip_slash(path: str) -> str:
    """``path`` without its trailing slash (``/`` stays ``/``): under
    ``trailing_slash_match: ignore``, ``/about`` and ``/about/`` are one path."""
    return path[:-1] if len(path) > 1 and path[-1] == "/" else path


def normal_kept(
    canonical: str, fold_case: bool, ignore_slash: bool
) -> tuple[str, tuple[int, ...] | None]:
    """The form of a canonical path that a rule with these flags matches against, and where
    each character came from (see :func:`fold_kept`; dropping a trailing slash keeps the
    offsets valid, the rest being a prefix)."""
    text, offsets = fold_kept(canonical) if fold_case else (canonical, None)
    return (strip_slash(text) if ignore_slash else text), offsets


def normal(canonical: str, fold_case: bool, ignore_slash: bool) -> str:
    """The normal form of a canonical path (see :func:`normal_kept`)."""
    return normal_kept(canonical, fold_case, ignore_slash)[0]


def normal_template(source: str, fold_case: bool, ignore_slash: bool) -> str:
    """A ``from``/``except`` template in the normal form its rule matches against."""
    text = fold_template(source) if fold_case else source
    return strip_slash(text) if ignore_slash else text


def fold_template(source: str) -> str:
    """A path template with its literal text folded and its placeholders as written.

    The literal text is taken to its canonical form first (``/Café/{name}`` becomes
    ``/caf%C3%A9/{name}``), so that the folded template compiles like any other.
    """
    pieces = _PLACEHOLDER.split(source)
    return "".join(
        piece if index % 2 else fold(canonical_literal(piece)) for index, piece in enumerate(pieces)
    )
