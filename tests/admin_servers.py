"""Running tests/admin_site: its database made ready, served by gunicorn, and an admin session.

Shared by the multi-worker reload tests and the browser test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.servers import GUNICORN, Server, serve

ROOT = Path(__file__).resolve().parent.parent
USER = "editor"
PASSWORD = "a-long-test-password-31"
TIMEOUT = 30.0
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def site_env(database: str, interval: float = 1.0) -> dict[str, str]:
    """The environment of the admin site on ``database`` (``sqlite:PATH`` or a postgres spec)."""
    return {
        "DJANGO_SETTINGS_MODULE": "tests.admin_site.settings",
        "ADMIN_SITE_DB": database,
        "ADMIN_SITE_INTERVAL": str(interval),
        # src first: the checkout's own package, not whichever one the interpreter installed.
        "PYTHONPATH": os.pathsep.join((str(ROOT / "src"), str(ROOT))),
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
    }


def manage(env: dict[str, str], *argv: str) -> str:
    """``django-admin ARGV`` for the site; its output."""
    result = subprocess.run(
        [sys.executable, "-m", "django", *argv],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def prepare(env: dict[str, str]) -> None:
    """Migrate and make the editor's account."""
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "createsuperuser", "--noinput", "--username", USER, "--email", "e@example.com")


@contextmanager
def gunicorn(
    env: dict[str, str],
    workers: int,
    *,
    app: str = "tests.admin_site.wsgi:application",
    worker_class: str = "sync",
) -> Iterator[Server]:
    """The site (or another ``module:attribute`` of it) under gunicorn with ``workers``
    workers of ``worker_class`` (``uvicorn.workers.UvicornWorker`` for an ASGI app)."""
    command = [*GUNICORN, "--workers", str(workers), "--worker-class", worker_class,
               "--bind", "fd://{fd}", app]  # fmt: skip
    with serve(command, env=env, cwd=ROOT) as server:
        yield server


def csrf(page: str) -> str:
    """The CSRF token of a page's form."""
    found = _CSRF.search(page)
    assert found is not None, page[:2000]
    return found.group(1)


def admin_session(url: str) -> requests.Session:
    """A logged-in admin session on the site at ``url``."""
    session = requests.Session()
    login = f"{url}/admin/login/"
    page = session.get(login, timeout=TIMEOUT).text
    form = {"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": csrf(page)}
    answer = session.post(login, data={**form, "next": "/admin/"}, timeout=TIMEOUT)
    assert "Log out" in answer.text, answer.text[:2000]
    return session


def import_csv(
    session: requests.Session, url: str, text: str, *, follow: bool = True, **choices: bool
) -> requests.Response:
    """Upload ``text`` on the admin's import page (``keep_good``, ``accept_warnings``).

    ``follow=False`` returns the import's own answer, sent just after its transaction
    committed (a 302 to the list when it imported).
    """
    page = f"{url}/admin/redirectware/redirect/import/"
    token = csrf(session.get(page, timeout=TIMEOUT).text)
    data = {"csrfmiddlewaretoken": token, **{k: "on" for k, v in choices.items() if v}}
    files = {"file": ("redirects.csv", text.encode(), "text/csv")}
    return session.post(page, data=data, files=files, timeout=TIMEOUT, allow_redirects=follow)


def add_rows(env: dict[str, str], *rows: tuple[str, str]) -> None:
    """Add ``(from, to)`` rows to the site's redirect table, as an editor would."""
    creates = "; ".join(f"Redirect.objects.create(from_path={a!r}, to={b!r})" for a, b in rows)
    manage(env, "shell", "-c", f"from redirectware.django.models import Redirect; {creates}")


def hit_totals(env: dict[str, str]) -> dict[str, int]:
    """Every rule and row of the site with its hits, as ``manage.py redirectware_stale``
    reports them (nothing has a hit after 2100): ``{"rule NAME": n, "row /from": n}``."""
    report = json.loads(manage(env, "redirectware_stale", "--since", "2100-01-01", "--json"))
    totals = {f"rule {rule['name']}": int(rule["hits"]) for rule in report["rules"]}
    totals.update({f"row {row['from']}": int(row["hits"]) for row in report["rows"]})
    return totals
