"""``manage.py redirectware_import_contrib``: django.contrib.redirects rows, moved in.

Runs tests/admin_site (SQLite) by its own ``manage`` commands, then serves it: the 301 that
contrib.redirects gave every method stays for GET and becomes 308 for a POST.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.admin_servers import gunicorn, manage, prepare, site_env

pytestmark = pytest.mark.servers

SEED = """
from django.contrib.redirects.models import Redirect
from django.contrib.sites.models import Site
home = Site.objects.get(pk=1)
shop = Site.objects.create(domain="Shop.example.com", name="shop")
Redirect.objects.create(site=home, old_path="/old", new_path="/new")
Redirect.objects.create(site=home, old_path="/gone", new_path="")
Redirect.objects.create(site=shop, old_path="/cart", new_path="/basket")
Redirect.objects.create(site=home, old_path="/a", new_path="/b")
Redirect.objects.create(site=home, old_path="/b", new_path="/a")
Redirect.objects.create(site=home, old_path="no-slash", new_path="/x")
"""
LOOP = (
    "The redirect from /a would send visitors round in a loop: /a → /b → /a, so the page "
    "would never load. Point “to” at a page that does not lead back here, or first change the "
    "other redirect in the loop."
)
ROWS = """
from redirectware.django.models import Redirect
for row in Redirect.objects.order_by("host", "from_path"):
    print(repr(row.host), row.from_path, row.to, row.status, row.changed_by)
"""


def test_rows_move_in_and_posts_get_308(tmp_path: Path) -> None:
    env = site_env(f"sqlite:{tmp_path / 'db.sqlite3'}")
    prepare(env)
    manage(env, "shell", "--no-imports", "-c", SEED)
    dry = manage(env, "redirectware_import_contrib", "--dry-run")
    assert dry.endswith("dry run: nothing written\n"), dry
    assert manage(env, "shell", "--no-imports", "-c", ROWS) == ""
    report = manage(env, "redirectware_import_contrib")
    assert report.splitlines() == [
        "2 rows to copy from django.contrib.redirects:",
        "  (no host: the SITE_ID site): 1",
        "  shop.example.com: 1",
        "  each keeps its 301 for GET and HEAD; POST, PUT, PATCH and DELETE now get 308 "
        "(contrib.redirects answered them 301, which turns them into GETs)",
        "  APPEND_SLASH is on: each row /a/ is copied as /a too, the second try "
        "contrib.redirects makes",
        "not taken, 1 rows with no new_path (410 Gone): the redirect table holds redirects "
        "only; answer these URLs with this gone rule in the rule document, or keep "
        "contrib.redirects for them:",
        "  example.com/gone",
        "  - name: contrib-gone",
        "    when: not_found",
        "    map:",
        '      - {from: "/gone", status: 410}',
        "not taken, 3 rows the rule set refuses:",
        "  id 6: from must be a path starting with a single '/', got 'no-slash'",
        f"  id 4: {LOOP}",
        f"  id 5: {LOOP}",
        "written: 2 added, 0 replaced",
    ], report
    assert manage(env, "shell", "--no-imports", "-c", ROWS).splitlines() == [
        "'' /old /new 301 redirectware_import_contrib",
        "'shop.example.com' /cart /basket 301 redirectware_import_contrib",
    ]
    with gunicorn(env, 1) as server:
        get = requests.get(f"{server.url}/old", allow_redirects=False, timeout=30)
        post = requests.post(f"{server.url}/old", data=b"x", allow_redirects=False, timeout=30)
    assert (get.status_code, get.headers["Location"]) == (301, f"{server.url}/new")
    assert (post.status_code, post.headers["Location"]) == (308, f"{server.url}/new")
