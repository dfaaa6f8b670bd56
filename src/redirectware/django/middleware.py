"""``redirectware.django.RedirectMiddleware``: the rule document as Django middleware.

It runs in both of Django's modes without a thread hop: under ASGI (an async
``get_response``) Django gets a coroutine function, under WSGI a plain callable. The rules are
compiled once, when Django builds its middleware chain; an invalid document raises
:class:`~redirectware.RuleError` then, never on a request.

The request is described to the engine as the *server* saw it: the scheme is
``wsgi.url_scheme`` or the ASGI scope's ``scheme``, never ``request.scheme`` (which believes
``SECURE_PROXY_SSL_HEADER`` from any peer). Forwarded headers count only when the document's
``trusted_proxies`` lists the peer; the engine applies that itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from redirectware import asgi, wsgi
from redirectware.adapter import headers_to_add, log_decision, metrics_for, path_from_decoded
from redirectware.draining import discard, drain_budget_from_meta
from redirectware.engine.decision import PASS, Decision

from .conf import (
    SettingProblem,
    drain_limit_setting,
    metrics_setting,
    not_found_keep_setting,
    rule_holder,
    stats_alias_setting,
    stats_setting,
)

SyncGetResponse = Callable[[HttpRequest], HttpResponseBase]
AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


class RequestValues:
    """What the engine needs from a Django request, read from the server's view of it."""

    __slots__ = ("client", "headers", "host", "method", "path", "query", "scheme")

    def __init__(self, request: HttpRequest) -> None:
        meta = request.META
        scope: asgi.Scope | None = getattr(request, "scope", None)
        if scope is not None:
            # ASGIRequest: its META holds a decoded path and an upper-cased method; the
            # scope keeps the bytes as sent (raw_path) and the method as sent.
            self.method: str = scope["method"]
            self.scheme: str = scope.get("scheme") or "http"
            self.path = asgi.request_path(scope)
            query = scope.get("query_string", b"")
            self.query: str = query.decode("latin-1") if isinstance(query, bytes) else query
        else:
            # WSGIRequest: META is the environ, but Django has replaced its latin-1 PATH_INFO
            # with the UTF-8 text; the request target as sent (RAW_URI under gunicorn,
            # REQUEST_URI elsewhere) is better still: it keeps %2F apart from "/".
            self.method = meta.get("REQUEST_METHOD", request.method or "GET")
            self.scheme = meta.get("wsgi.url_scheme") or "http"
            if meta.get("RAW_URI") or meta.get("REQUEST_URI"):
                self.path = wsgi.request_path(meta)
            else:
                self.path = path_from_decoded(request.path, "utf-8", keep_escapes=True)
            self.query = meta.get("QUERY_STRING", "")
        # Django joins repeated headers with "," in both modes, so two Host headers stay
        # visible to the engine, which answers them with 400.
        self.host: str | None = meta.get("HTTP_HOST")
        if self.host is None:
            self.host = _server_host(scope, meta, self.scheme)
        self.headers = wsgi.EnvironHeaders(meta)
        self.client: str | None = meta.get("REMOTE_ADDR")


def _server_host(scope: asgi.Scope | None, meta: Mapping[str, Any], scheme: str) -> str | None:
    """The server's own name for a request without Host, as ``request.get_host()`` has it.

    HTTP/1.0 clients and Django's test ``Client`` send no Host; Django (after PEP 3333) then
    uses ``SERVER_NAME`` and ``SERVER_PORT``, which the server sets, not the client.
    """
    if scope is not None:
        server = scope.get("server")
        if not server:
            return None
        name, port = str(server[0]), str(server[1])
    else:
        name, port = meta.get("SERVER_NAME", ""), str(meta.get("SERVER_PORT", ""))
        if not name:
            return None
    default = "443" if scheme == "https" else "80"
    return name if port in ("", default) else f"{name}:{port}"


class RedirectResponse(HttpResponse):
    """A redirect with ``url``, as Django's own redirects have it.

    Django's test client follows redirects by ``response.url``, and ``assertRedirects``
    reads it. Not an ``HttpResponseRedirect``: that one re-encodes the Location, which the
    engine has already encoded byte for byte.
    """

    @property
    def url(self) -> str:
        """The ``Location`` header."""
        return self["Location"]


def _response(decision: Decision) -> HttpResponse:
    kind = RedirectResponse if decision.kind == "redirect" else HttpResponse
    response = kind(decision.body, status=decision.status)
    for name, value in decision.headers:
        response[name] = value
    return response


def _add_headers(response: HttpResponseBase, decision: Decision) -> HttpResponseBase:
    # The app's own header wins (SecurityMiddleware's HSTS, a view's), as in every adapter.
    for name, value in headers_to_add(response.headers.keys(), decision.headers):
        response[name] = value
    return response


class RedirectMiddleware:
    """Django middleware that applies ``settings.REDIRECTWARE``.

    Put it at the top of ``MIDDLEWARE``, above ``SecurityMiddleware`` and
    ``CommonMiddleware``: their redirects (``SECURE_SSL_REDIRECT``, ``PREPEND_WWW``) are 301s
    that turn a POST into a GET, and whichever middleware comes first answers.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: SyncGetResponse | AsyncGetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            # Tell Django this instance is a coroutine function: no sync_to_async around it.
            markcoroutinefunction(self)
        try:
            self.rules = rule_holder()
            self.drain_limit = drain_limit_setting()
            self._metrics = metrics_for(metrics_setting())
            flush_seconds = stats_setting()
            alias = stats_alias_setting()
            keep = not_found_keep_setting()
        except SettingProblem as problem:
            raise ImproperlyConfigured(str(problem)) from None
        if flush_seconds is not None:
            from .stats import hit_counts

            self._metrics = hit_counts(
                self._metrics, flush_seconds, keep, alias if isinstance(alias, str) else None
            )
        if self._metrics is not None:
            # Counting wraps get_response once, here: the request path stays as it is.
            self.get_response = self._metrics.django_get_response(get_response, self.async_mode)

    def _decide(self, request: HttpRequest) -> Decision:
        values = RequestValues(request)
        ruleset = self.rules.current()
        # The engine's own arguments are the key of an answer it may have given before.
        key = (values.method, values.scheme, values.host, values.path, values.query)
        known = ruleset.recall(key, values.headers, values.client)
        if known is not None:
            return self._logged(known, values)
        decision = ruleset.resolve(
            values.method,
            values.scheme,
            values.host,
            values.path,
            values.query,
            values.headers,
            values.client,
            remember_as=key,
        )
        return self._logged(decision, values)

    def _after_404(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """The app's response, or, when it is a 404 and a ``when: not_found`` rule answers,
        that rule's answer (the 404 is closed unsent), to any method: a POST gets 307 or
        308, which has the client send its body again to the new URL."""
        if response.status_code != 404:
            return response
        ruleset = self.rules.current()
        if not ruleset.waits_for_404:
            return response
        values = RequestValues(request)
        decision = ruleset.resolve_not_found(
            values.method,
            values.scheme,
            values.host,
            values.path,
            values.query,
            values.headers,
            values.client,
        )
        if decision.passes:
            return response
        response.close()  # a streaming 404's iterator is closed, as Django's handler would
        return self._answer(self._logged(decision, values))

    @staticmethod
    def _logged(decision: Decision, values: RequestValues) -> Decision:
        log_decision(decision, values.method, values.path)
        return decision

    def _answer(self, decision: Decision) -> HttpResponse:
        if self._metrics is not None:
            self._metrics.answered(decision)
        return _response(decision)

    def __call__(self, request: HttpRequest) -> Any:
        """Answer a redirect, a 503 or a 400 here, or hand the request to the app."""
        if self.async_mode:
            return self.__acall__(request)
        decision = self._decide(request)
        if decision is PASS:  # most requests: decided by identity, nothing to add
            response = cast(HttpResponseBase, self.get_response(request))  # sync mode
            return self._after_404(request, response)
        if decision.kind != "pass":
            # Through the request, not wsgi.input, so that Django's own stream state stays
            # true. (Under ASGI, Django has read the whole body before any middleware runs.)
            discard(request.read, drain_budget_from_meta(request.META, self.drain_limit))
            return self._answer(decision)
        response = cast(HttpResponseBase, self.get_response(request))  # sync mode: sync
        response = self._after_404(request, response)
        return _add_headers(response, decision) if decision.headers else response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        """The async twin of :meth:`__call__`, used when Django serves over ASGI."""
        decision = self._decide(request)
        if decision.kind != "pass":
            return self._answer(decision)
        # Async mode: Django handed us a coroutine function.
        response = await cast(Awaitable[HttpResponseBase], self.get_response(request))
        response = self._after_404(request, response)
        return _add_headers(response, decision) if decision.headers else response
