"""Failures reach someone where logging was never configured, and never twice where it was.

A plain ``uvicorn app:app`` or gunicorn configures its own loggers only; a Django project
without ``LOGGING`` for ``redirectware`` neither. Then a failed reload (ERROR) and the
"reloaded" notice (INFO) must reach stderr with time, level and logger name. Wherever the
application configured logging (Django's ``LOGGING``, a root handler), its configuration wins.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.servers import GUNICORN, UVICORN, Server, serve

pytestmark = pytest.mark.servers

GOOD = "version: 1\nrules:\n  - {from: /a, to: /b}\n"
TYPO = "version: 1\nrules:\n  - {from: /a, too: /b}\n"
FIXED = "version: 1\nrules:\n  - {from: /a, to: /c}\n  - {from: /d, to: /e}\n"

#: The fallback's line: date, time, level, logger name.
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
ERROR_LINE = re.compile(
    rf"^{STAMP} ERROR redirectware: rule file not reloaded, previous rules still serving: "
    rf".*live\.yaml:3: rules\[0\]: too: unknown key",
    re.MULTILINE,
)
RELOADED_LINE = re.compile(
    rf"^{STAMP} INFO redirectware: reloaded .*live\.yaml: 2 rules$", re.MULTILINE
)

ASGI_APP = """\
from pathlib import Path
from redirectware import RedirectMiddleware

async def inner(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

app = RedirectMiddleware(
    inner, rules=str(Path(__file__).parent / "live.yaml"), reload=True, reload_interval=0
)
"""

WSGI_APP = """\
from pathlib import Path
from redirectware import WSGIRedirectMiddleware

def inner(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

app = WSGIRedirectMiddleware(
    inner, rules=str(Path(__file__).parent / "live.yaml"), reload=True, reload_interval=0
)
"""


def _until(condition: Callable[[], bool], what: Callable[[], str], timeout: float = 30.0) -> None:
    """Return once ``condition()`` holds; fail with ``what()`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    paced = threading.Event()  # never set: wait() paces the polling without time.sleep
    while not condition():
        assert time.monotonic() < deadline, f"condition not met in {timeout}s:\n{what()}"
        paced.wait(0.05)


def _edit_and_ask(server: Server, live: Path, text: str, pattern: re.Pattern[str]) -> None:
    live.write_text(text, encoding="utf-8")

    def logged() -> bool:
        httpx.get(server.url + "/x", timeout=10)  # a request is what notices the change
        return pattern.search(server.log()) is not None

    _until(logged, server.log)


@pytest.mark.parametrize("server_name", ["uvicorn", "gunicorn"])
def test_a_failed_reload_reaches_stderr_with_time_level_and_logger(
    tmp_path: Path, server_name: str
) -> None:
    live = tmp_path / "live.yaml"
    live.write_text(GOOD, encoding="utf-8")
    if server_name == "uvicorn":
        (tmp_path / "app.py").write_text(ASGI_APP, encoding="utf-8")
        command = [*UVICORN, "app:app", "--app-dir", str(tmp_path), "--fd", "{fd}"]
    else:
        (tmp_path / "app.py").write_text(WSGI_APP, encoding="utf-8")
        command = [*GUNICORN, "--chdir", str(tmp_path), "--bind", "fd://{fd}", "app:app"]
    with serve(command, cwd=tmp_path, ready_path="/x") as server:
        _edit_and_ask(server, live, TYPO, ERROR_LINE)
        _edit_and_ask(server, live, FIXED, RELOADED_LINE)
        assert httpx.get(server.url + "/a").headers["location"].endswith("/c")
        log = server.log()
    # Once each: the fallback and Python's last-resort handler do not both print it.
    assert len(re.findall("rule file not reloaded", log)) == 1, log
    assert len(ERROR_LINE.findall(log)) == 1, log


DJANGO_SCRIPT = """\
import io, sys, threading, time
from pathlib import Path

import django
from django.conf import settings

live = Path(sys.argv[1])
extra = {}
if sys.argv[2] == "logging":
    extra["LOGGING"] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"mine": {"format": "MINE %(levelname)s %(name)s %(message)s"}},
        "handlers": {
            "mine": {"class": "logging.FileHandler", "filename": sys.argv[4], "formatter": "mine"}
        },
        "loggers": {"redirectware": {"handlers": ["mine"], "level": "WARNING"}},
    }
settings.configure(
    SECRET_KEY="x", ALLOWED_HOSTS=["*"], ROOT_URLCONF="tests.django_site.urls",
    MIDDLEWARE=["redirectware.django.RedirectMiddleware"], DATABASES={},
    REDIRECTWARE=live, REDIRECTWARE_RELOAD=True, **extra,
)
django.setup()
from django.test import Client

class Tee(io.StringIO):
    def write(self, text):
        sys.__stderr__.write(text)
        return super().write(text)

sys.stderr = tee = Tee()
client = Client()
client.get("/x")  # builds the middleware
live.write_text(sys.argv[3], encoding="utf-8")
deadline = time.monotonic() + 30
mine = Path(sys.argv[4])

def logged():
    text = tee.getvalue() + (mine.read_text() if mine.exists() else "")
    return "rule file not reloaded" in text

while not logged():
    assert time.monotonic() < deadline, "no reload error logged"
    threading.Event().wait(0.05)  # the middleware looks at the file once a second
    client.get("/x")
"""


def _django(tmp_path: Path, mode: str) -> str:
    """Run the script; return its stderr (and, with ``LOGGING``, its handler's file)."""
    live = tmp_path / "live.yaml"
    live.write_text(GOOD, encoding="utf-8")
    mine = tmp_path / "mine.log"
    done = subprocess.run(
        [sys.executable, "-c", DJANGO_SCRIPT, str(live), mode, TYPO, str(mine)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr
    if mode == "logging":
        return done.stderr + "--- mine.log ---\n" + mine.read_text(encoding="utf-8")
    return done.stderr


def test_under_django_without_logging_the_fallback_speaks(tmp_path: Path) -> None:
    err = _django(tmp_path, "plain")
    assert len(ERROR_LINE.findall(err)) == 1, err


def test_under_django_logging_for_redirectware_wins(tmp_path: Path) -> None:
    out = _django(tmp_path, "logging")
    lines = [line for line in out.splitlines() if "rule file not reloaded" in line]
    # Only in the file LOGGING named, in its format: nothing from the fallback on stderr.
    assert len(lines) == 1, out
    assert lines[0].startswith("MINE ERROR redirectware rule file not reloaded"), out
    assert out.index("--- mine.log ---") < out.index(lines[0]), out


BASIC_CONFIG_LATER = textwrap.dedent(
    """\
    import logging, sys
    from redirectware import WSGIRedirectMiddleware
    WSGIRedirectMiddleware(lambda e, s: [], rules={"rules": []})
    logging.getLogger("redirectware").error("before")
    logging.basicConfig(format="ROOT %(message)s")
    logging.getLogger("redirectware").error("after")
    """
)

ROOT_CONFIGURED_FIRST = textwrap.dedent(
    """\
    import logging
    logging.basicConfig(format="ROOT %(levelname)s %(message)s", level=logging.DEBUG)
    from redirectware import WSGIRedirectMiddleware
    WSGIRedirectMiddleware(lambda e, s: [], rules={"rules": []})
    logging.getLogger("redirectware").debug("debug still flows to root")
    """
)


def test_logging_configured_after_the_middleware_takes_over_without_doubles() -> None:
    err = subprocess.run(
        [sys.executable, "-c", BASIC_CONFIG_LATER], capture_output=True, text=True, timeout=60
    ).stderr
    lines = err.splitlines()
    assert re.fullmatch(rf"{STAMP} ERROR redirectware: before", lines[0]), err
    assert lines[1:] == ["ROOT after"], err


def test_a_configured_root_logger_is_left_alone() -> None:
    err = subprocess.run(
        [sys.executable, "-c", ROOT_CONFIGURED_FIRST], capture_output=True, text=True, timeout=60
    ).stderr
    assert err == "ROOT DEBUG debug still flows to root\n"
