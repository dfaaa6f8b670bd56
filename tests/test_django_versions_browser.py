"""An editor under ``REDIRECTWARE_REVIEW`` in a real browser: an edit goes into the draft,
the review page shows which requests would change answer (with the access log's hits), the
site keeps the old answer until "Publish", then serves the new one.

Headless Chromium drives tests/admin_site under gunicorn over the DevTools protocol.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.admin_servers import (
    PASSWORD,
    USER,
    admin_session,
    gunicorn,
    import_csv,
    prepare,
    site_env,
)
from tests.cdp import chromium

pytestmark = pytest.mark.browser

SERVED_WITHIN = 30.0


def _location(url: str) -> str:
    return requests.get(url, allow_redirects=False, timeout=30).headers.get("Location", "")


def test_the_review_page_shows_the_changed_answers_before_publishing(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    line = '1.2.3.4 - - [07/Dec/2026:10:00:00 +0000] "GET /old-page HTTP/1.1" 301 3 "-" "x"\n'
    log.write_text(line * 7)
    env = {
        **site_env(f"sqlite:{tmp_path / 'db.sqlite3'}", interval=0.5),
        "ADMIN_SITE_REVIEW": "1",
        "ADMIN_SITE_REVIEW_LOG": str(log),
    }
    prepare(env)
    with gunicorn(env, 2) as server, chromium() as page:
        url = server.url
        # The live row, imported (an import is live at once, as before).
        import_csv(admin_session(url), url, "from,to\n/old-page,/first\n", accept_warnings=True)
        deadline = time.monotonic() + SERVED_WITHIN
        while _location(f"{url}/old-page") != f"{url}/first" and time.monotonic() < deadline:
            page.go(f"{url}/admin/login/")  # a browser round trip while the workers reload
        assert _location(f"{url}/old-page") == f"{url}/first"

        page.go(f"{url}/admin/login/?next=/admin/")
        page.fill({"id_username": USER, "id_password": PASSWORD})
        page.click("input[type=submit]")
        page.go(f"{url}/admin/redirectware/redirect/")
        page.click("#result_list a[href*='/change/']")
        page.fill({"id_to": "/second"})
        page.click("input[name=_save]")
        assert "Saved into the draft" in page.text(), page.text()

        page.go(f"{url}/admin/redirectware/tableversion/review/")
        review = page.text()
        assert "/old-page -> /first" in review and "/old-page -> /second" in review, review
        rows = page.js(
            "[...document.querySelectorAll('#changed-answers tbody tr')]"
            ".map(r => [...r.cells].map(c => c.innerText.trim()))"
        )
        # The log's 7 GETs of /old-page (on the rows' host), first: most logged hits.
        assert rows[0] == [
            "GET https://example.com/old-page",
            "301 https://example.com/first (editors)",
            "301 https://example.com/second (editors)",
            "7",
        ], rows
        assert [
            "POST http://example.com/old-page",
            "308 http://example.com/first (editors)",
            "308 http://example.com/second (editors)",
            "0",
        ] in rows, rows
        # Not served before publishing.
        assert _location(f"{url}/old-page") == f"{url}/first"

        page.fill({"note": "point old-page at second"})
        page.click("#publish-form input[type=submit]")
        assert "Published version 2" in page.text(), page.text()
        deadline = time.monotonic() + SERVED_WITHIN
        while _location(f"{url}/old-page") != f"{url}/second" and time.monotonic() < deadline:
            page.go(f"{url}/admin/redirectware/tableversion/")
        assert _location(f"{url}/old-page") == f"{url}/second"
        history = page.text()
        assert "point old-page at second" in history and "live" in history, history
