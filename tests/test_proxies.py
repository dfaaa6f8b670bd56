"""Several trusted proxies: the client address is the first untrusted hop from the right.

A ``maintenance`` rule with ``allow_ips`` behind two trusted proxies (a load balancer at
10.1.0.1, then nginx at 10.2.0.1) must see the client's address, not the load balancer's:
through the engine, the ASGI middleware (httpx) and the WSGI middleware (Werkzeug).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from werkzeug.test import Client

from redirectware import RedirectMiddleware, RuleSet, WSGIRedirectMiddleware
from redirectware.engine.proxies import TrustedProxies, read_forwarded
from tests.conftest import echo_asgi_app, echo_wsgi_app

BALANCER = "10.1.0.1"
NGINX = "10.2.0.1"
OFFICE = "192.0.2.10"  # allowed through the maintenance
STRANGER = "198.51.100.7"

DOC: dict[str, Any] = {
    "version": 1,
    "settings": {"trusted_proxies": [f"{BALANCER}/32", NGINX]},
    "rules": [{"name": "down", "maintenance": {"retry_after": 60, "allow_ips": [OFFICE]}}],
}

# (headers the app receives from nginx, the status it answers): 200 when the client is the
# office (allowed through), 503 otherwise.
CHAINS = [
    pytest.param({"X-Forwarded-For": f"{OFFICE}, {BALANCER}"}, 200, id="xff-office"),
    pytest.param({"X-Forwarded-For": f"{STRANGER}, {BALANCER}"}, 503, id="xff-stranger"),
    # A client cannot talk its way in: what it wrote is left of the first untrusted hop.
    pytest.param({"X-Forwarded-For": f"{OFFICE}, {STRANGER}, {BALANCER}"}, 503, id="xff-spoof"),
    pytest.param({"X-Forwarded-For": f"{OFFICE}:5123, {BALANCER}"}, 200, id="xff-port"),
    pytest.param(
        {"Forwarded": f'for={OFFICE};proto=https, for="{BALANCER}:80"'}, 200, id="forwarded-office"
    ),
    pytest.param({"Forwarded": f"for={STRANGER}, for={BALANCER}"}, 503, id="forwarded-stranger"),
    pytest.param(
        {"Forwarded": f"for={OFFICE}, for={STRANGER}, for={BALANCER}"}, 503, id="forwarded-spoof"
    ),
]


@pytest.mark.parametrize(("headers", "status"), CHAINS)
def test_engine(headers: dict[str, str], status: int) -> None:
    ruleset = RuleSet.from_dict(DOC)
    lower = {name.lower(): value for name, value in headers.items()}
    decision = ruleset.resolve("GET", "http", "example.com", "/shop", "", lower, NGINX)
    assert (decision.status if decision.kind != "pass" else 200) == status


@pytest.mark.parametrize(("headers", "status"), CHAINS)
def test_asgi(headers: dict[str, str], status: int) -> None:
    app = RedirectMiddleware(echo_asgi_app, rules=DOC)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(NGINX, 41000))
        async with httpx.AsyncClient(transport=transport, base_url="http://example.com") as c:
            return await c.get("/shop", headers=headers)

    assert asyncio.run(go()).status_code == status


@pytest.mark.parametrize(("headers", "status"), CHAINS)
def test_wsgi(headers: dict[str, str], status: int) -> None:
    client = Client(WSGIRedirectMiddleware(echo_wsgi_app, rules=DOC))
    response = client.get(
        "/shop",
        base_url="http://example.com",
        headers=headers,
        environ_base={"REMOTE_ADDR": NGINX},
    )
    assert response.status_code == status


def test_from_an_untrusted_peer_the_headers_count_for_nothing() -> None:
    client = Client(WSGIRedirectMiddleware(echo_wsgi_app, rules=DOC))
    response = client.get(
        "/shop",
        base_url="http://example.com",
        headers={"X-Forwarded-For": OFFICE},
        environ_base={"REMOTE_ADDR": STRANGER},
    )
    assert response.status_code == 503


TRUSTED = TrustedProxies.parse(["10.0.0.0/8"])


@pytest.mark.parametrize(
    ("headers", "client"),
    [
        # Every hop trusted (a request from inside): the left-most, the farthest, counts.
        ({"x-forwarded-for": "10.9.9.9, 10.1.0.1"}, "10.9.9.9"),
        ({"forwarded": "for=10.9.9.9, for=10.1.0.1"}, "10.9.9.9"),
        ({"x-forwarded-for": "[2001:db8::1]:4711, 10.1.0.1"}, "2001:db8::1"),
        ({"forwarded": 'for="[2001:db8::1]:4711", for=10.1.0.1'}, "2001:db8::1"),
        # The nearest proxy's element names no client: none is believed.
        ({"forwarded": "for=192.0.2.1, proto=https"}, None),
        # A comma inside a quoted value does not split an element.
        ({"forwarded": 'for=192.0.2.1;host="a,b", for=10.1.0.1'}, "192.0.2.1"),
    ],
)
def test_read_forwarded_walks_past_trusted_hops(headers: dict[str, str], client: str) -> None:
    assert read_forwarded(headers, TRUSTED).client == client


def test_proto_and_host_stay_the_right_most() -> None:
    # Only the client address is walked: the scheme and host are the nearest proxy's word.
    forwarded = read_forwarded(
        {
            "x-forwarded-for": "192.0.2.1, 10.1.0.1",
            "x-forwarded-proto": "http, https",
            "x-forwarded-host": "evil.example, example.com",
        },
        TRUSTED,
    )
    assert (forwarded.client, forwarded.proto, forwarded.host) == (
        "192.0.2.1",
        "https",
        "example.com",
    )
    standard = read_forwarded({"forwarded": "for=192.0.2.1;proto=http, for=10.1.0.1;proto=https"})
    assert (standard.client, standard.proto) == ("10.1.0.1", "https")
