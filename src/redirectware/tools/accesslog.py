"""Reading web-server access logs, line by line and as bytes: the input of ``replay``.

Formats understood without being told:

* the combined and common log formats, as nginx (``log_format combined``), Apache
  (``%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-agent}i\\"``) and gunicorn (its
  default ``access_log_format``) write them;
* uvicorn's access logger (``INFO:     127.0.0.1:51234 - "GET /a HTTP/1.1" 404 Not Found``).

A custom nginx ``log_format`` is given as written (:func:`nginx_format`): each ``$variable``
matches up to the literal character that follows it, which is how nginx's own formats are
read back by log tools.

Lines are matched as bytes and never decoded as a whole: a log holds whatever clients sent,
binary junk and other encodings included. Only the fields a report needs are cut out, and
only once per distinct request (see :mod:`redirectware.tools.replay`). nginx and Apache
write a request's bytes outside printable ASCII, and ``"`` and ``\\``, as ``\\xHH`` (or
``\\"``); :func:`unescape` turns them back into the bytes the client sent.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from typing import BinaryIO

#: A line longer than this is not a log line (a runaway binary blob without a newline): it
#: is read in pieces of this size and counted as one malformed line, in bounded memory.
MAX_LINE = 1 << 20

_QUOTED = rb'"([^"\\]*(?:\\.[^"\\]*)*)"'

#: Fields a format may give, in the order of the key :meth:`LogFormat.key_fields` names.
REQUEST, METHOD, TARGET, STATUS, HOST, SCHEME = (
    "request",
    "method",
    "target",
    "status",
    "host",
    "scheme",
)
KEY_FIELDS = (REQUEST, METHOD, TARGET, STATUS, HOST, SCHEME)
REFERER = "referer"

#: nginx variables that stand for a field; every other ``$name`` matches and is ignored.
_NGINX_VARIABLES = {
    "request": REQUEST,
    "request_method": METHOD,
    "request_uri": TARGET,
    "status": STATUS,
    "host": HOST,
    "http_host": HOST,
    "server_name": HOST,
    "scheme": SCHEME,
    "http_referer": REFERER,
}


class LogFormatError(ValueError):
    """A ``--format`` that cannot be read: the message says what it lacks."""


@dataclass(frozen=True)
class LogFormat:
    """A compiled line pattern: which of its groups are the request's fields.

    :attr:`key_groups` are the group numbers of :attr:`key_fields`, in that order, so that
    ``match.group(*key_groups)`` is the tuple a line is counted under.
    """

    name: str
    pattern: re.Pattern[bytes]
    key_fields: tuple[str, ...]
    key_groups: tuple[int, ...]
    referer_group: int | None
    fallbacks: tuple[LogFormat, ...] = field(default=())

    @property
    def status_position(self) -> int:
        """Where the status stands in a key."""
        return self.key_fields.index(STATUS)


def _compiled(name: str, pattern: bytes, fallbacks: tuple[LogFormat, ...] = ()) -> LogFormat:
    regex = re.compile(pattern, re.DOTALL)
    names = regex.groupindex
    key_fields = tuple(f for f in KEY_FIELDS if f in names)
    return LogFormat(
        name,
        regex,
        key_fields,
        tuple(names[f] for f in key_fields),
        names.get(REFERER),
        fallbacks,
    )


#: nginx/Apache/gunicorn: ``host ident user [time] "request" status bytes ["referer" "agent"]``.
COMBINED = _compiled(
    "combined",
    rb"\S+ \S+ \S+ \[[^\]]*\] "
    + _QUOTED.replace(b"(", b"(?P<request>", 1)
    + rb" (?P<status>\d{3}) \S+(?: "
    + _QUOTED.replace(b"(", b"(?P<referer>", 1)
    + rb")?",
)

#: uvicorn's access logger: ``LEVEL:   client:port - "request" status phrase``.
UVICORN = _compiled(
    "uvicorn",
    rb"\S+\s+\S+ - " + _QUOTED.replace(b"(", b"(?P<request>", 1) + rb" (?P<status>\d{3})\b",
)

#: The default: combined/common first, then uvicorn's, line by line.
AUTO = LogFormat(
    "combined, common or uvicorn",
    COMBINED.pattern,
    COMBINED.key_fields,
    COMBINED.key_groups,
    COMBINED.referer_group,
    (UVICORN,),
)

_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def nginx_format(text: str) -> LogFormat:
    """Compile an nginx ``log_format`` string (as written in nginx.conf, without the name).

    Each variable becomes a group matching anything up to the literal character that
    follows it (to the end of the line for the last). ``$request`` (or ``$request_method``
    with ``$request_uri``) and ``$status`` are required; ``$host``/``$http_host``/
    ``$server_name``, ``$scheme`` and ``$http_referer`` are used when present.

    :raises LogFormatError: the format lacks the request or the status.
    """
    parts: list[bytes] = []
    seen: set[str] = set()
    position = 0
    matches = list(_VARIABLE.finditer(text))
    for number, found in enumerate(matches):
        parts.append(re.escape(text[position : found.start()].encode("latin-1")))
        variable = found.group(1) or found.group(2)
        after = text[found.end() : found.end() + 1]
        if after and not (number + 1 < len(matches) and matches[number + 1].start() == found.end()):
            body = b"[^" + re.escape(after.encode("latin-1")) + b"]*"
        else:
            body = rb"\S*" if after else rb"[^\r\n]*"
        role = _NGINX_VARIABLES.get(variable)
        if role == STATUS:
            body = rb"\d{3}"
        if role is not None and role not in seen:
            seen.add(role)
            parts.append(b"(?P<" + role.encode() + b">" + body + b")")
        else:
            parts.append(b"(?:" + body + b")")
        position = found.end()
    parts.append(re.escape(text[position:].encode("latin-1")))
    if STATUS not in seen or not (REQUEST in seen or {METHOD, TARGET} <= seen):
        raise LogFormatError(
            f"log format {text!r} needs $status and $request (or $request_method and "
            "$request_uri): without them a line says nothing the rules can answer"
        )
    return _compiled("--format", b"".join(parts))


def unescape(value: bytes) -> bytes:
    """The bytes a client sent, from a field as nginx or Apache logged it."""
    if b"\\" not in value:
        return value
    return _ESCAPE.sub(_unescaped, value)


_ESCAPE = re.compile(rb"\\x([0-9A-Fa-f]{2})|\\(.)", re.DOTALL)


def _unescaped(found: re.Match[bytes]) -> bytes:
    if found.group(1) is not None:
        return bytes([int(found.group(1), 16)])
    return found.group(2)


def decompressed(raw: BinaryIO) -> BinaryIO:
    """``raw`` itself, or a reader of its decompressed bytes when it is gzip-compressed
    (told by its magic bytes, whatever the file is named). ``raw`` must be seekable."""
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw
