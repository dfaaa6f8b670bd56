"""The Django middleware beyond the shared table: ALLOWED_HOSTS, bodies kept across a
redirect, HSTS on the app's answers, proxy trust, reloading, logging. Each runs through
Django's test ``Client`` (sync) and ``AsyncClient`` (async) alike."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import pytest

from tests.django_site import configure

configure()

from django.http import HttpResponse  # noqa: E402
from django.test import AsyncClient, Client, override_settings  # noqa: E402
from django.test.client import FakePayload  # noqa: E402

HTTPS_RULE = {"name": "https", "https": True, "permanent": True}
API_RULE = {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}"}
MODES = ["sync", "async"]


def doc(*rules: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """A rule document."""
    return {"version": 1, "settings": settings, "rules": list(rules)}


def send(
    mode: str,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    client: str = "127.0.0.1",
) -> HttpResponse:
    """One request through Django's sync or async test client, Host and all as given."""
    parts = urlsplit(url)
    sent = {"Host": parts.netloc, **(headers or {})}
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if mode == "sync":
        return cast(
            HttpResponse,
            Client().generic(
                method,
                target,
                data=body,
                secure=parts.scheme == "https",
                headers=sent,
                REMOTE_ADDR=client,
            ),
        )
    if body:
        sent["Content-Length"] = str(len(body))

    async def go() -> HttpResponse:
        response = await AsyncClient().request(
            method=method,
            path=unquote(parts.path),
            raw_path=parts.path.encode("latin-1"),
            query_string=parts.query.encode("latin-1"),
            scheme=parts.scheme,
            headers=[(n.lower().encode(), v.encode("latin-1")) for n, v in sent.items()],
            client=[client, 50000],
            _body_file=FakePayload(body),
        )
        return cast(HttpResponse, response)

    return asyncio.run(go())


def echoed(response: HttpResponse) -> dict[str, str]:
    """What the echo view says it received."""
    assert response.status_code == 200, response
    return cast(dict[str, str], json.loads(response["X-Echo"]))


# --- ALLOWED_HOSTS stands in for a document without allowed_hosts --------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("allowed", "debug", "url", "status", "location"),
    [
        ([".example.com"], False, "http://example.com/x", 301, "https://example.com/x"),
        ([".example.com"], False, "http://shop.example.com/x", 301, "https://shop.example.com/x"),
        ([".example.com"], False, "http://evil.com/x", 400, None),
        (["example.com"], False, "http://shop.example.com/x", 400, None),
        (["*"], False, "http://evil.com/x", 301, "https://evil.com/x"),
        # An empty list under DEBUG: Django allows the local names, and so do we.
        ([], True, "http://localhost:8000/x", 301, "https://localhost/x"),
        ([], True, "http://example.com/x", 400, None),
        # An empty list without DEBUG: Django allows nothing, and we build no Location.
        ([], False, "http://localhost/x", 400, None),
    ],
    ids=["apex", "subdomain", "other", "exact-not-sub", "star", "debug", "debug-other", "none"],
)
def test_allowed_hosts_fallback(
    mode: str, allowed: list[str], debug: bool, url: str, status: int, location: str | None
) -> None:
    with override_settings(REDIRECTWARE=doc(HTTPS_RULE), ALLOWED_HOSTS=allowed, DEBUG=debug):
        response = send(mode, "GET", url)
    assert response.status_code == status
    assert response.get("Location") == location
    if status == 400:
        # Our 400, before the app (Django's DisallowedHost would be an HTML page).
        assert response.content == b"400 Bad Request: Host header missing or not allowed\n"


@pytest.mark.parametrize("mode", MODES)
def test_document_allowed_hosts_win_over_django(mode: str) -> None:
    document = doc(HTTPS_RULE, allowed_hosts=["example.org"])
    with override_settings(REDIRECTWARE=document, ALLOWED_HOSTS=["example.com"]):
        assert send(mode, "GET", "http://example.org/x")["Location"] == "https://example.org/x"
        assert send(mode, "GET", "http://example.com/x").status_code == 400


# --- the body survives the redirect -----------------------------------------------------------

BODY = b'{"order": 42, "note": "caf\xc3\xa9 \\u00e9"}\r\n\x00\xff'


# --- method as sent, path as sent -------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_lower_case_method_is_not_a_get(mode: str) -> None:
    # Django upper-cases request.method; the engine must see the method as sent.
    with override_settings(REDIRECTWARE=doc(API_RULE)):
        assert send(mode, "get", "http://example.com/api/v1/x").status_code == 307


def test_path_without_raw_uri_is_re_encoded() -> None:
    # runserver (wsgiref) gives no RAW_URI: the decoded PATH_INFO is encoded again.
    with override_settings(REDIRECTWARE=doc({"from": "/café", "to": "/cafe"})):
        response = send("sync", "GET", "http://example.com/caf%C3%A9")
    assert response["Location"] == "http://example.com/cafe"


# --- HSTS on the app's answers --------------------------------------------------------------

HSTS_RULE = {**HTTPS_RULE, "hsts": {"max_age": 600, "include_subdomains": True}}


@pytest.mark.parametrize("mode", MODES)
def test_hsts_added_to_app_response_over_https_only(mode: str) -> None:
    with override_settings(REDIRECTWARE=doc(HSTS_RULE)):
        secure = send(mode, "POST", "https://example.com/form", body=b"a=1")
        plain = send(mode, "GET", "http://example.com/healthz", headers={})
    assert echoed(secure)["body"] == "a=1"
    assert secure["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
    assert plain.status_code == 301
    assert "Strict-Transport-Security" not in plain


@pytest.mark.parametrize("mode", MODES)
def test_app_own_hsts_wins(mode: str) -> None:
    with override_settings(REDIRECTWARE=doc(HSTS_RULE), SECURE_HSTS_SECONDS=60):
        response = send(mode, "GET", "https://example.com/x")
    assert response["Strict-Transport-Security"] == "max-age=60"


# --- proxy trust ---------------------------------------------------------------------------

PROXY_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.parametrize("mode", MODES)
def test_django_proxy_header_does_not_make_redirectware_trust_a_peer(mode: str) -> None:
    # Django believes X-Forwarded-Proto from anyone once SECURE_PROXY_SSL_HEADER is set;
    # the engine believes it only from trusted_proxies (system check W001 warns of this).
    forged = {"X-Forwarded-Proto": "https"}
    with override_settings(REDIRECTWARE=doc(HTTPS_RULE), SECURE_PROXY_SSL_HEADER=PROXY_HEADER):
        response = send(mode, "POST", "http://example.com/x", headers=forged)
    assert (response.status_code, response["Location"]) == (308, "https://example.com/x")
    trusted = doc(HTTPS_RULE, trusted_proxies=["127.0.0.1"])
    with override_settings(REDIRECTWARE=trusted, SECURE_PROXY_SSL_HEADER=PROXY_HEADER):
        assert echoed(send(mode, "POST", "http://example.com/x", headers=forged))


# --- reloading -------------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Return once ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    paced = threading.Event()  # never set: wait() paces the polling without time.sleep
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        paced.wait(0.05)


YAML = """\
version: 1
rules:
  - name: moved
    from: /old
    to: {target}
"""


def test_reload_keeps_allowed_hosts_fallback_and_survives_bad_edit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text(YAML.format(target="/first"), encoding="utf-8")
    settings = {
        "REDIRECTWARE": str(path),
        "REDIRECTWARE_RELOAD": True,
        "ALLOWED_HOSTS": ["example.com"],
    }
    with override_settings(**settings):
        client = Client()  # one middleware chain, alive across the edits

        def location(host: str = "example.com") -> str | None:
            response = client.get("/old", headers={"Host": host})
            return response.get("Location")

        assert location() == "http://example.com/first"
        path.write_text(YAML.format(target="/second-target"), encoding="utf-8")
        wait_for(lambda: location() == "http://example.com/second-target")
        # The reloaded document has no allowed_hosts either: ALLOWED_HOSTS still applies.
        assert client.get("/old", headers={"Host": "evil.com"}).status_code == 400
        with caplog.at_level(logging.ERROR, logger="redirectware"):
            path.write_text(YAML.format(target="/{nope}"), encoding="utf-8")
            # A reload happens on a request: keep asking until one has tried it.
            wait_for(lambda: location() is not None and "not reloaded" in caplog.text)
        assert location() == "http://example.com/second-target"


# --- logging ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_one_debug_line_per_redirect(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    with (
        override_settings(REDIRECTWARE=doc(API_RULE)),
        caplog.at_level(logging.DEBUG, logger="redirectware"),
    ):
        send(mode, "POST", "http://example.com/api/v1/x")
    assert [r.getMessage() for r in caplog.records if r.name == "redirectware"] == [
        "POST /api/v1/x -> 307 http://example.com/api/v2/x (rules[0] 'api')"
    ]


def test_assert_redirects_works_on_our_redirects() -> None:
    from django.test import SimpleTestCase

    with override_settings(REDIRECTWARE=doc({**API_RULE, "permanent": True})):
        response = Client().post("/api/v1/orders", data=b"{}", content_type="application/json")
        assert response.status_code == 308
        # The one Django users reach for; it reads response.url.
        SimpleTestCase().assertRedirects(
            response, "http://testserver/api/v2/orders", status_code=308
        )
        assert response["Location"] == "http://testserver/api/v2/orders"


@pytest.mark.parametrize("mode", MODES)
def test_a_400_for_the_host_names_the_host_and_django_allowed_hosts_in_the_log(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="redirectware")
    with override_settings(REDIRECTWARE=doc(HTTPS_RULE), ALLOWED_HOSTS=["example.com"]):
        response = send(mode, "POST", "http://127.0.0.1:8000/api/v1/orders")
    assert response.status_code == 400
    assert [r.getMessage() for r in caplog.records if r.name == "redirectware"] == [
        "POST /api/v1/orders -> 400: Host '127.0.0.1' is not in Django's settings.ALLOWED_HOSTS "
        "(the document has no allowed_hosts) [example.com]: add '127.0.0.1' there, or send "
        "the request with an allowed Host"
    ]
