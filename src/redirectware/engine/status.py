"""Which status code a redirect gets: the table at the heart of redirectware.

=========  =============================  ============================  ===================
rule is    GET/HEAD, ``get_codes: classic``  GET/HEAD, ``get_codes: strict``  any other method
=========  =============================  ============================  ===================
temporary  302                            307                           307
permanent  301                            308                           308
=========  =============================  ============================  ===================

An explicit ``status`` is sent as written to GET and HEAD. To any other method an explicit 301
becomes 308 and 302 becomes 307: after a 301 or 302, clients may (and browsers do) re-send a
POST as a GET without its body, which is the very bug this library exists to prevent.
"""

from __future__ import annotations

from http import HTTPStatus

REDIRECT_CODES = frozenset({301, 302, 307, 308})
SAFE_METHODS = frozenset({"GET", "HEAD"})

# Method-preserving equivalents of the two codes that let clients switch to GET.
_PRESERVING = {
    HTTPStatus.MOVED_PERMANENTLY: HTTPStatus.PERMANENT_REDIRECT,
    HTTPStatus.FOUND: HTTPStatus.TEMPORARY_REDIRECT,
    HTTPStatus.PERMANENT_REDIRECT: HTTPStatus.PERMANENT_REDIRECT,
    HTTPStatus.TEMPORARY_REDIRECT: HTTPStatus.TEMPORARY_REDIRECT,
}


# The four answers as plain ints, looked up once: reading an enum member costs more than
# the rest of this table, and every redirect reads one.
_MOVED, _FOUND = int(HTTPStatus.MOVED_PERMANENTLY), int(HTTPStatus.FOUND)
_PERMANENT, _TEMPORARY = int(HTTPStatus.PERMANENT_REDIRECT), int(HTTPStatus.TEMPORARY_REDIRECT)
_PRESERVING_CODES = {int(code): int(kept) for code, kept in _PRESERVING.items()}


def is_permanent_code(code: int) -> bool:
    """301 and 308 are permanent; 302 and 307 temporary."""
    return code in (HTTPStatus.MOVED_PERMANENTLY, HTTPStatus.PERMANENT_REDIRECT)


def redirect_status(method: str, permanent: bool, explicit: int | None, strict: bool) -> int:
    """The status code for a redirect of a request with ``method``.

    ``method`` is compared exactly: HTTP methods are case-sensitive, so ``get`` is not GET and
    gets a method-preserving code like any other unknown method.
    """
    if method in SAFE_METHODS:
        if explicit is not None:
            return explicit
        if permanent:
            return _PERMANENT if strict else _MOVED
        return _TEMPORARY if strict else _FOUND
    if explicit is not None:
        return _PRESERVING_CODES[explicit]
    # 308/307, not 301/302: the client must re-send the same method with the same body.
    return _PERMANENT if permanent else _TEMPORARY
