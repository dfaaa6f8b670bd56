"""Reading and discarding a request body before an early answer, up to a bound.

When the middleware answers a request itself (a redirect, a 503, a 400) it has not read the
body. If the server then closes the connection (the request said ``Connection: close``, or
gunicorn's sync worker, which always closes), the kernel answers the bytes still arriving
with a TCP reset, and a client still sending its body sees the reset instead of the answer.
Reading the body first lets the client finish sending and read the answer.

One job, shared by every adapter: decide whether and how much to read, then read it.

* ``Expect: 100-continue``: never read. The client waits for the server's go-ahead before
  sending, and the early answer tells it not to send at all.
* ``Content-Length`` up to the limit: read exactly that many bytes. Over the limit: read
  nothing (reading part of it would not spare the client the reset), answer at once and
  leave the connection to the server.
* No ``Content-Length`` but a body framed by the server (ASGI ``Transfer-Encoding:
  chunked``, WSGI ``wsgi.input_terminated``): read until the body ends or the limit is
  reached, whichever is first.
* Anything else (no length, no framing, a limit of 0): read nothing.
* A WSGI stream that can seek is a buffer the server has already filled (waitress, test
  clients): nothing to take off the connection, so it is left as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any, Final

#: The default bound, in bytes: enough for any form or JSON document, small enough that
#: a large upload to a moved URL does not hold a worker for long.
DEFAULT_DRAIN_LIMIT: Final = 1_048_576
#: How much is asked of a WSGI stream at a time: large enough for few calls, small enough
#: that a body is never held in memory whole.
CHUNK_SIZE: Final = 65_536

logger = logging.getLogger("redirectware")

#: The ASGI header names (lower-case, as ASGI requires) that decide whether to drain.
_BODY_HEADERS: Final = frozenset({b"content-length", b"transfer-encoding", b"expect"})


def check_limit(value: object, name: str = "drain_limit") -> int:
    """``value`` as a drain limit: a non-negative ``int`` (0 switches draining off).

    :param name: what the value is called where the user set it, for the message.
    :raises TypeError: not an ``int`` (a ``bool`` is refused: ``True`` is no byte count).
    :raises ValueError: negative.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{name} must be a whole number of bytes (0 switches draining off), "
            f"not {type(value).__name__} {value!r}"
        )
    if value < 0:
        raise ValueError(f"{name} must be 0 or more bytes, not {value}")
    return value


def expects_continue(expect: str | None) -> bool:
    """Whether an ``Expect`` header value asks for ``100-continue`` (case-insensitively)."""
    return expect is not None and "100-continue" in expect.lower()


def budget(content_length: str | None, expect: str | None, framed: bool, limit: int) -> int:
    """How many bytes of the body to read and discard before an early answer; 0 for none.

    :param content_length: the ``Content-Length`` header as sent, or None.
    :param expect: the ``Expect`` header as sent, or None.
    :param framed: the body has no length but the server delimits it (chunked): it can be
        read until it ends without waiting on a client that sends nothing.
    :param limit: the most this may return; 0 switches draining off.
    """
    if limit <= 0 or expects_continue(expect):
        return 0
    if content_length is not None:
        text = content_length.strip()
        # A length that is not plain digits is the server's to reject; reading on a
        # guess could block on bytes that never come.
        if not text.isdigit():
            return 0
        length = int(text)
        return length if length <= limit else 0
    return limit if framed else 0


def discard(read: Callable[[int], bytes], amount: int) -> int:
    """Read and drop up to ``amount`` bytes from a blocking stream; return how many were read.

    Stops early when the stream ends (``read`` returns ``b""``) or fails: a client that went
    away mid-body cannot be answered anyway, and the failure is the server's to handle, so
    whatever its stream raises (``OSError`` under gunicorn, Werkzeug's
    ``ClientDisconnected``, Django's ``UnreadablePostError``) must not turn the early answer
    into a 500.
    """
    done = 0
    while done < amount:
        try:
            chunk = read(min(CHUNK_SIZE, amount - done))
        except Exception as error:  # see the docstring: any stream failure ends the drain
            logger.debug("request body not drained: %r", error)
            break
        if not chunk:
            break
        done += len(chunk)
    return done


def drain_wsgi(environ: Mapping[str, Any], limit: int) -> int:
    """Read and discard a WSGI request's body before an early answer; return bytes read.

    Never reads past ``CONTENT_LENGTH`` (PEP 3333). Without it, reads only when the server
    says the stream ends by itself (``wsgi.input_terminated``, as gunicorn does for a
    chunked body), and then up to ``limit``.
    """
    length = environ.get("CONTENT_LENGTH") or None
    terminated = bool(environ.get("wsgi.input_terminated"))
    if length is None and not terminated:
        return 0  # the common case: a request without a body
    amount = budget(length, environ.get("HTTP_EXPECT"), terminated, limit)
    stream = environ.get("wsgi.input")
    if not amount or stream is None or buffered(stream):
        return 0
    return discard(stream.read, amount)


def buffered(stream: object) -> bool:
    """Whether a ``wsgi.input`` is a buffer the server has already filled, so not a socket.

    A stream that can seek holds bytes already received: waitress reads every body into
    one before it calls the app, and test clients (Werkzeug's, Flask's) hand over a
    ``BytesIO``. Reading it would take nothing off the connection, and Werkzeug's client,
    following a 307/308, re-sends the very same stream object from where it was left: read
    to its end, the body would arrive empty. A socket stream cannot seek.
    """
    seekable = getattr(stream, "seekable", None)
    if not callable(seekable):
        return False
    try:
        return bool(seekable())
    except (OSError, ValueError):  # a closed file, say: then it is no socket to drain either
        return False


def drain_budget_from_meta(meta: Mapping[str, Any], limit: int) -> int:
    """The budget of a Django request, from ``request.META``.

    Only a WSGI request from a socket stream is read (see :func:`buffered`). A body without
    ``CONTENT_LENGTH`` counts as none: under WSGI Django reads the stream only up to
    ``CONTENT_LENGTH``, so ``request.read()`` would give nothing of it anyway.
    """
    length = meta.get("CONTENT_LENGTH") or None
    stream = meta.get("wsgi.input")
    # No wsgi.input: an ASGIRequest, whose body Django has read whole before any middleware.
    if length is None or stream is None or buffered(stream):
        return 0
    return budget(length, meta.get("HTTP_EXPECT"), False, limit)


def asgi_body_headers(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[str | None, str | None, bool]:
    """``Content-Length``, ``Expect`` and whether ``Transfer-Encoding`` is present, from ASGI."""
    length: str | None = None
    expect: str | None = None
    chunked = False
    for name, value in headers:
        # Every early answer scans the headers, and most requests carry none of these: one
        # set lookup per header costs about two thirds of three comparisons.
        if name in _BODY_HEADERS:
            if name == b"content-length":
                length = value.decode("latin-1")
            elif name == b"transfer-encoding":
                chunked = True
            else:
                expect = value.decode("latin-1")
    return length, expect, chunked


async def drain_asgi(
    scope: Mapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    limit: int,
) -> int:
    """Receive and discard an ASGI request's body before an early answer; return bytes read.

    ``receive()`` is awaited while ``more_body`` is true and fewer than the budgeted bytes
    have come, and never after ``http.disconnect``. The server decides how large each
    message is, so a chunked body may be read up to one message past ``limit``; the next
    ``receive()`` is never made once ``limit`` is reached. With ``Expect: 100-continue``
    nothing is received: uvicorn sends ``100 Continue`` on the first ``receive()``, which
    would ask the client for the very body the answer makes pointless.
    """
    if limit <= 0:
        return 0
    length, expect, chunked = asgi_body_headers(scope.get("headers", ()))
    if length is None and not chunked:
        return 0  # no body: receive() would only hand over an empty message
    amount = budget(length, expect, chunked, limit)
    done = 0
    while done < amount:
        message = await receive()
        if message.get("type") != "http.request":
            break  # http.disconnect: the client is gone
        done += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return done
