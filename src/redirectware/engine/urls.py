"""URL text: making request paths comparable and Location values safe.

Two forms of a request path matter:

* the *safe* form: the path exactly as the client sent it, except that every character that may
  not stand in a URI (controls, space, non-ASCII, ``\\``, ``#``, a stray ``%``) is
  percent-encoded. ``%2F`` stays ``%2F``. This is what ``https``, ``trailing_slash`` and the
  ``{path}`` placeholder put in a Location.
* the *canonical* form: the safe form normalised as RFC 3986 section 6.2.2 allows (hex digits
  upper-cased, escaped unreserved characters decoded), so that ``/caf%c3%a9``, ``/caf%C3%A9``
  and a rule written as ``/café`` are one path. Rules match against this form and captures are
  taken from it; it never decodes ``%2F``, so an encoded slash is never mistaken for a separator.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# RFC 3986 section 2.3.
UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters that may stand unescaped in a path: pchar plus "/" (RFC 3986 section 3.3).
PATH_SAFE = "/:@!$&'()*+,;=-._~"
# A query may also hold "?" and "/" unescaped (RFC 3986 section 3.4).
_QUERY_SAFE = PATH_SAFE + "?"

_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/:@!$&'()*+,;=]*\Z")
#: A path that is its own safe and canonical form (see :func:`path_forms`).
PLAIN_PATH = _PLAIN_PATH
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9\-._~/:@!$&'()*+,;=?]*\Z")


def _encode_unsafe(text: str, safe: str, request_bytes: bool = True) -> str:
    """Percent-encode what may not stand in a URI, keeping valid ``%XX`` escapes as they are.

    ``request_bytes``: the text is request bytes decoded as latin-1 (as servers hand them
    over), so each character is one byte; otherwise it is text a person wrote, sent as UTF-8.
    """
    out: list[str] = []
    pieces = _ESCAPE.split(text)
    # split() alternates: literal text, escape hex, literal text, ...
    for index, piece in enumerate(pieces):
        if index % 2:
            out.append("%" + piece)
        elif piece:
            # latin-1 round trip: servers hand us raw bytes decoded as latin-1; re-encode
            # those bytes, and encode genuine non-latin-1 text as UTF-8.
            try:
                raw = piece.encode("latin-1" if request_bytes else "utf-8")
            except UnicodeEncodeError:
                raw = piece.encode("utf-8")
            out.append(quote(raw, safe=safe))
    return "".join(out)


def path_forms(raw_path: str) -> tuple[str, str]:
    """The safe and the canonical form of a request path (most paths are plain: both itself)."""
    if _PLAIN_PATH.match(raw_path):
        return raw_path, raw_path
    safe = _encode_unsafe(raw_path, PATH_SAFE)
    return safe, canonical_path(safe)


def safe_query(raw_query: str) -> str:
    """The query string with only the characters a URI may not hold percent-encoded."""
    if _PLAIN_QUERY.match(raw_query):
        return raw_query
    return _encode_unsafe(raw_query, _QUERY_SAFE)


def _normalise_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    if char in UNRESERVED:
        return char
    return "%" + match.group(1).upper()


def canonical_path(raw_path: str) -> str:
    """The form of a path that rules are matched against (see the module docstring)."""
    if _PLAIN_PATH.match(raw_path):
        return raw_path
    return _ESCAPE.sub(_normalise_escape, _encode_unsafe(raw_path, PATH_SAFE))


def canonical_offsets(safe: str) -> list[int]:
    """Where each character of ``safe``'s canonical form came from in ``safe``.

    Canonicalising only rewrites ``%XX`` escapes (an escaped unreserved character becomes the
    character, other hex digits are upper-cased), so entry ``i`` is the index in ``safe`` of
    canonical character ``i``, with one last entry for the end. A span matched in the canonical
    form maps back to the request's own bytes: ``safe[offsets[start]:offsets[end]]``.
    """
    offsets: list[int] = []
    index, length = 0, len(safe)
    while index < length:
        if safe[index] == "%" and _ESCAPE.match(safe, index):
            if chr(int(safe[index + 1 : index + 3], 16)) in UNRESERVED:
                offsets.append(index)
            else:
                offsets.extend((index, index + 1, index + 2))
            index += 3
        else:
            offsets.append(index)
            index += 1
    offsets.append(length)
    return offsets


def canonical_literal(text: str) -> str:
    """The canonical form of literal path text written in a rule (``/café`` -> ``/caf%C3%A9``)."""
    if _PLAIN_PATH.match(text):
        return text
    return _ESCAPE.sub(_normalise_escape, quote(text.encode("utf-8"), safe=PATH_SAFE + "%"))


def encode_target(text: str) -> str:
    """Encode the literal text of a ``to`` target, keeping any escapes its author wrote."""
    if _PLAIN_QUERY.match(text):
        return text
    return _encode_unsafe(text, _QUERY_SAFE + "#", request_bytes=False)


def encode_target_part(text: str, query: bool = False) -> str:
    """Encode the path (or query) of a written target (UTF-8 for non-ASCII)."""
    if (_PLAIN_QUERY if query else _PLAIN_PATH).match(text):
        return text
    return _encode_unsafe(text, _QUERY_SAFE if query else PATH_SAFE, request_bytes=False)


def collapse_leading_slashes(path: str) -> str:
    """``//evil.com/x`` -> ``/evil.com/x``: a path must never read as a network location."""
    if path.startswith("//"):
        return "/" + path.lstrip("/")
    return path
