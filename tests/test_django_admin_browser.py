"""An editor in a real browser: log in to the admin, add a redirect, see it served as the
preview said, and meet the refusal of one that would loop, on the page in plain words, while
the server's log has ``redirectware check``'s.

Headless Chromium (``.ci/run`` installs it) drives tests/admin_site under gunicorn with two
workers, over the DevTools protocol (tests/cdp.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.admin_servers import PASSWORD, ROOT, USER, gunicorn, prepare, site_env
from tests.cdp import chromium

pytestmark = pytest.mark.browser

SITE = ROOT / "tests" / "admin_site"
#: Generous: the reload interval is 0.5 s, but the machine is shared and busy.
SERVED_WITHIN = 30.0


def test_an_editor_adds_a_redirect_and_is_refused_a_loop(tmp_path: Path) -> None:
    env = site_env(f"sqlite:{tmp_path / 'db.sqlite3'}", interval=0.5)
    prepare(env)
    with gunicorn(env, 2) as server, chromium() as page:
        page.go(f"{server.url}/admin/login/?next=/admin/")
        page.fill({"id_username": USER, "id_password": PASSWORD})
        page.click("input[type=submit]")
        assert "Log out" in page.text()

        page.go(f"{server.url}/admin/redirectware/redirect/add/")
        page.fill({"id_from_path": "/browser-old", "id_to": "/browser-new"})
        page.click("input[name=_save]")
        listing = page.text()
        assert "was added successfully" in listing, listing
        # The list says what explain would, asked at this server (its scheme, host and
        # port): GET 301 (the map rule is permanent), POST 308.
        assert (
            f"GET {server.url}/browser-old: 301 to {server.url}/browser-new; "
            f"POST: 308 to {server.url}/browser-new; by rules[1] 'editors'"
        ) in listing, listing

        deadline = time.monotonic() + SERVED_WITHIN
        page.go(f"{server.url}/browser-old")
        while page.url() != f"{server.url}/browser-new" and time.monotonic() < deadline:
            page.go(f"{server.url}/browser-old")
        assert page.url() == f"{server.url}/browser-new"
        assert page.text() == "app: /browser-new"

        page.go(f"{server.url}/admin/redirectware/redirect/add/")
        page.fill({"id_from_path": "/browser-new", "id_to": "/browser-old"})
        page.click("input[name=_save]")
        refused = page.text()
        assert "Please correct the error below." in refused, refused
        # Plain words on the page: which row, what is wrong, what to do; no file, no rule.
        assert (
            "The redirect from /browser-new would send visitors round in a loop: "
            "/browser-new → /browser-old → /browser-new, so the page would never load. "
            "Point “to” at a page that does not lead back here, or first change the other "
            "redirect in the loop."
        ) in refused, refused
        assert "redirects.yaml" not in refused and "rules[1]" not in refused, refused
        # The log has the words of `redirectware check`: file, line, rule, key, the loop.
        assert (
            f"{SITE}/redirects.yaml:7: rules[1] 'editors': map: "
            "redirect loop: /browser-old -> /browser-new -> /browser-old"
        ) in server.log(), server.log()
        assert page.js("document.getElementById('id_from_path').value") == "/browser-new"
        assert page.url() == f"{server.url}/admin/redirectware/redirect/add/"
