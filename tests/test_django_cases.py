"""The shared behaviour table through Django: the test ``Client`` (WSGI, the sync middleware
path) and ``AsyncClient`` (ASGI, the async path), with the same assertions as test_cases.py."""

from __future__ import annotations

import asyncio
from typing import cast
from urllib.parse import unquote, urlsplit

import pytest

from tests.django_site import configure

configure()

from asgiref.sync import iscoroutinefunction  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.http.response import HttpResponseBase  # noqa: E402
from django.test import AsyncClient, Client, override_settings  # noqa: E402
from django.test.client import FakePayload  # noqa: E402

from redirectware.django import RedirectMiddleware  # noqa: E402
from tests.cases import CASES, Case  # noqa: E402
from tests.test_cases import _check, check_followed  # noqa: E402

PARAMS = [pytest.param(case, id=case.id) for case in CASES]


def _headers(response: HttpResponseBase) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


@pytest.mark.parametrize("case", PARAMS)
def test_django_sync(case: Case) -> None:
    with override_settings(REDIRECTWARE=case.document):
        client = Client()  # one client, one middleware: the second answer may be remembered
        for _ in range(2):
            response = _sync_request(case, client, case.url)
            _check(case, response.status_code, _headers(response), response.content)
        if case.body is not None and case.location is not None:
            followed = _sync_request(case, client, case.location)
            check_followed(case, followed.headers.get("X-Echo"))


def _sync_request(case: Case, client: Client, to: str) -> HttpResponse:
    url = urlsplit(to)
    headers = {"Host": url.netloc, **dict(case.headers)}
    target = url.path + (f"?{url.query}" if url.query else "")
    response = client.generic(
        case.method,
        target,
        data=case.body or b"",
        secure=url.scheme == "https",
        headers=headers,
        # What gunicorn puts in the environ: the request target as sent, so that
        # %2F stays apart from "/" (Django's own test client sets no RAW_URI).
        RAW_URI=case.target if case.target is not None and to == case.url else target,
        REMOTE_ADDR="127.0.0.1",
    )
    return cast(HttpResponse, response)


async def _async_request(case: Case, client: AsyncClient, to: str) -> HttpResponse:
    url = urlsplit(to)
    headers = {"Host": url.netloc, **dict(case.headers)}
    sent = case.target if case.target is not None and to == case.url else url.path
    body = case.body or b""
    headers["Content-Length"] = str(len(body))
    response = await client.request(
        method=case.method,
        # An ASGI server decodes the path as UTF-8 and keeps the bytes sent in raw_path.
        path=unquote(url.path),
        raw_path=sent.split("?", 1)[0].encode("latin-1"),
        query_string=url.query.encode("latin-1"),
        scheme=url.scheme,
        headers=[(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers.items()],
        client=["127.0.0.1", 50000],
        _body_file=FakePayload(body),
    )
    # AsyncClient answers with HttpResponse subclasses; the stubs call it something else.
    return cast(HttpResponse, response)


@pytest.mark.parametrize("case", PARAMS)
def test_django_async(case: Case) -> None:
    async def run() -> list[HttpResponse]:
        client = AsyncClient()  # one client, one middleware: the second may be remembered
        sent = [await _async_request(case, client, case.url) for _ in range(2)]
        if case.body is not None and case.location is not None:
            sent.append(await _async_request(case, client, case.location))
        return sent

    with override_settings(REDIRECTWARE=case.document):
        responses = asyncio.run(run())
    for response in responses[:2]:
        _check(case, response.status_code, _headers(response), response.content)
    if len(responses) > 2:
        check_followed(case, responses[2].headers.get("X-Echo"))


def test_async_mode_is_a_coroutine_function_without_thread_hop() -> None:
    async def get_response(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"app")

    def sync_get_response(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"app")

    # Django wraps a middleware in sync_to_async (a thread) unless it is a coroutine function.
    assert iscoroutinefunction(RedirectMiddleware(get_response))
    assert not iscoroutinefunction(RedirectMiddleware(sync_get_response))
    assert RedirectMiddleware.sync_capable and RedirectMiddleware.async_capable
