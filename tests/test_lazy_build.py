"""A bad rule file in ``app.add_middleware(RedirectMiddleware, ...)`` fails loudly once.

Starlette builds its middleware on the first ASGI message and again on each one while the
build fails. Under uvicorn's default ``--lifespan auto`` a failed start-up is taken for
"lifespan unsupported", so before this every request rebuilt the stack and got a 500 with a
traceback in the log. Now: one ERROR naming file, line and the fix; plain 500s after it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from redirectware import RedirectMiddleware, RuleError
from redirectware.asgi import RULES_FAILED_BODY as BODY
from tests.servers import UVICORN, serve

BAD = "version: 1\nrules:\n  - name: api\n    from: /a\n    too: /b\n"

APP = """\
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from redirectware import RedirectMiddleware

async def home(request):
    return PlainTextResponse("home")

app = Starlette(routes=[Route("/", home)])
app.add_middleware(RedirectMiddleware, rules="redirects.yaml")
"""

#: The one ERROR: file and line of the mistake, then what to change.
ERROR = re.compile(
    r"ERROR redirectware: the redirect rules failed to load while Starlette built its "
    r"middleware: redirects\.yaml:5: rules\[0\] 'api': too: unknown key .*"
    r"run it with --lifespan on .* or pass rules=RuleSet\.from_file\(\.\.\.\) to add_middleware"
)


def _home(request: object) -> PlainTextResponse:
    return PlainTextResponse("home")


def _app(rules: str | dict[str, Any]) -> Starlette:
    app = Starlette(routes=[Route("/", _home)])
    app.add_middleware(RedirectMiddleware, rules=rules)
    return app


@pytest.mark.servers
def test_uvicorn_lifespan_auto_logs_one_error_then_plain_500s(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "redirects.yaml").write_text(BAD, encoding="utf-8")
    with serve([*UVICORN, "app:app", "--fd", "{fd}"], cwd=tmp_path) as server:
        answers = [httpx.get(server.url + path) for path in ("/", "/a", "/", "/x")]
        log = server.log()
    assert [a.status_code for a in answers] == [500] * 4
    assert {a.content for a in answers} == {BODY}
    assert len(ERROR.findall(log)) == 1, log
    assert "Traceback" not in log, log


@pytest.mark.servers
def test_uvicorn_lifespan_on_still_stops_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "redirects.yaml").write_text(BAD, encoding="utf-8")
    done = subprocess.run(
        [*UVICORN, "app:app", "--port", "0", "--lifespan", "on"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "Application startup failed. Exiting." in done.stderr
    assert "redirects.yaml:5: rules[0] 'api': too: unknown key" in done.stderr


def test_the_first_build_raises_and_later_builds_answer_a_plain_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text(BAD, encoding="utf-8")
    client = TestClient(_app(str(path)))  # no `with`: no lifespan, as with --lifespan off
    with pytest.raises(RuleError, match="too: unknown key"):
        client.get("/")
    second, third = client.get("/"), client.get("/a")
    assert (second.status_code, second.content) == (500, BODY)
    assert (third.status_code, third.content) == (500, BODY)
    errors = [r for r in caplog.records if r.name == "redirectware" and r.levelname == "ERROR"]
    assert len(errors) == 1, errors


def test_a_dict_document_fails_the_same_way() -> None:
    client = TestClient(_app({"rules": [{"from": "/a", "too": "/b"}]}))
    with pytest.raises(RuleError):
        client.get("/")
    assert client.get("/").content == BODY


def test_another_app_with_the_same_file_still_raises(tmp_path: Path) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text(BAD, encoding="utf-8")
    for _ in range(2):
        with pytest.raises(RuleError), TestClient(_app(str(path))):
            pass  # lifespan start-up: the error stops the app, as --lifespan on does


def test_direct_construction_always_raises(tmp_path: Path) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text(BAD, encoding="utf-8")

    async def inner(scope: object, receive: object, send: object) -> None:
        raise AssertionError("never called")

    for _ in range(2):
        with pytest.raises(RuleError):
            RedirectMiddleware(inner, rules=str(path))


def test_a_good_document_builds_the_real_middleware() -> None:
    client = TestClient(_app({"rules": [{"from": "/a", "to": "/b"}]}))
    answer = client.get("/a", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (302, "http://testserver/b")
    assert client.get("/").text == "home"
