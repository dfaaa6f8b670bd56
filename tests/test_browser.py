"""A real browser (headless Chromium) submits forms and calls APIs whose URLs have moved.

The pages come from ``tests/browser_app.py`` under uvicorn on 127.0.0.1. Chromium loads a
page, whose script submits a form (or calls ``fetch()``); ``--dump-dom`` prints the page the
browser ends up on, which shows what the moved endpoint received. CI installs Chromium
(``.ci/run``); the test does not skip without it.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_app import FIELDS
from tests.servers import UVICORN, Server, serve

# Drives headless Chromium against a real server: left out of the quick loop.
pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless",
    "--no-sandbox",  # the CI container runs as root, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Virtual time for the page's own work (a fetch) before the DOM is dumped; network waits
#: do not use it up, so this is a budget for timers, not a timing assumption.
FETCH_BUDGET_MS = "10000"
RECEIVED = re.compile(r'<pre id="received">(.*?)</pre>', re.DOTALL)


def dump_dom(url: str, *extra: str) -> str:
    """Load ``url`` in a fresh headless Chromium profile; the final page's DOM as HTML."""
    with tempfile.TemporaryDirectory(prefix="redirectware-chromium-") as profile:
        result = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, "--dump-dom", url],
            capture_output=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    return result.stdout.decode()


def received(dom: str) -> str:
    """The text of the page's ``<pre id="received">``."""
    found = RECEIVED.search(dom)
    assert found is not None, dom
    return html.unescape(found.group(1))


def _serve(app: str) -> Any:
    return serve([*UVICORN, app, "--fd", "{fd}"], cwd=ROOT, ready_path="/form/urlencoded")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with _serve("tests.browser_app:app") as running:
        yield running


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("urlencoded", "application/x-www-form-urlencoded"), ("multipart", "multipart/form-data")],
)
def test_form_post_to_moved_url_arrives_as_post_with_its_fields(
    server: Server, kind: str, content_type: str
) -> None:
    seen = json.loads(received(dump_dom(f"{server.url}/form/{kind}")))
    assert seen["method"] == "POST"
    assert seen["path"] == "/api/v2/orders"
    assert seen["query"] == "src=browser"
    assert seen["content_type"] == content_type
    assert seen["fields"] == FIELDS
    assert 'POST /api/v1/orders?src=browser HTTP/1.1" 308' in server.log()


def test_cross_origin_fetch_follows_when_cors_is_outside(server: Server) -> None:
    # The page and the API are on different ports, so different origins.
    with _serve("tests.browser_app:app") as page:
        dom = dump_dom(
            f"{page.url}/fetch?api={server.url}", f"--virtual-time-budget={FETCH_BUDGET_MS}"
        )
    status, url, body = received(dom).split(" ", 2)
    assert (status, url) == ("200", f"{server.url}/api/v2/orders?src=fetch")
    seen = json.loads(body)
    assert (seen["method"], seen["body"]) == ("POST", '{"order": 42}')
    log = server.log()
    assert 'OPTIONS /api/v1/orders?src=fetch HTTP/1.1" 200' in log  # preflight, by CORS
    assert 'POST /api/v1/orders?src=fetch HTTP/1.1" 308' in log


def test_cross_origin_fetch_fails_when_cors_is_inside(server: Server) -> None:
    # Why CORSMiddleware goes outside redirectware: inside, the preflight gets the 308.
    with _serve("tests.browser_app:app_cors_inside") as api:
        dom = dump_dom(
            f"{server.url}/fetch?api={api.url}", f"--virtual-time-budget={FETCH_BUDGET_MS}"
        )
        log = api.log()
    assert received(dom).startswith("failed: TypeError")
    assert 'OPTIONS /api/v1/orders?src=fetch HTTP/1.1" 308' in log
    assert "POST /api/v1/orders" not in log
