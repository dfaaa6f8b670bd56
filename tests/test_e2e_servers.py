"""The examples on real servers: FastAPI under uvicorn, Flask under gunicorn, on 127.0.0.1.

Real clients (httpx, requests, curl) follow the redirects themselves. What must hold: a
POST, PUT, PATCH or DELETE sent to /api/v1 arrives at /api/v2 with the same method and the
same bytes; a legacy URL answers 301; maintenance answers 503, switched on by an environment
variable or a flag file; the examples' one-command start scripts serve.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from tests.servers import GUNICORN, UVICORN, Server, ServerError, serve

# Starts real servers: left out of the quick loop (CONTRIBUTING.md, Development).
pytestmark = pytest.mark.servers

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CURL = "/usr/bin/curl"
#: The rules' switches, pinned so that the environment running the tests cannot flip them.
OFF = {"MAINTENANCE": "false", "FORCE_HTTPS": "false"}

#: JSON with non-ASCII text, and a body of every byte value: both must arrive unchanged.
JSON_BODY = json.dumps({"order": 42, "note": "café ✓", "items": ["a", "b"]}).encode()
BINARY_BODY = bytes(range(256)) * 4


def command(framework: str, folder: Path) -> list[str]:
    """How each example is served: FastAPI under uvicorn, Flask under gunicorn."""
    if framework == "fastapi":
        # --lifespan on: an invalid rule file must stop the server, not answer 500s.
        return [*UVICORN, "app:app", "--app-dir", str(folder), "--fd", "{fd}", "--lifespan", "on"]
    return [*GUNICORN, "--chdir", str(folder), "--bind", "fd://{fd}", "--workers", "2", "app:app"]


@dataclass
class Example:
    """A running example and the folder it serves from (a copy, so tests may touch files)."""

    framework: str
    server: Server
    folder: Path


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def example(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Example]:
    framework: str = request.param
    folder = tmp_path_factory.mktemp(framework) / "app"
    shutil.copytree(EXAMPLES / f"{framework}_app", folder)
    with serve(command(framework, folder), env=OFF, ready_path="/healthz") as server:
        yield Example(framework, server, folder)


def _url(method: str) -> tuple[str, str]:
    """The old and new path for a method: collection for POST, one order for the others."""
    if method == "POST":
        return "/api/v1/orders?src=e2e", "/api/v2/orders"
    return "/api/v1/orders/7?src=e2e", "/api/v2/orders/7"


def _check_received(seen: dict[str, Any], method: str, new_path: str, body: bytes) -> None:
    assert seen["endpoint"] == "v2"
    assert seen["method"] == method
    assert seen["path"] == new_path
    assert seen["query"] == "src=e2e"
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()


METHODS = ["POST", "PUT", "PATCH", "DELETE"]
BODIES = [
    pytest.param(JSON_BODY, "application/json", id="json"),
    pytest.param(BINARY_BODY, "application/octet-stream", id="binary"),
]


@pytest.mark.parametrize(("body", "content_type"), BODIES)
@pytest.mark.parametrize("method", METHODS)
def test_httpx_follows_with_method_and_body(
    example: Example, method: str, body: bytes, content_type: str
) -> None:
    old, new = _url(method)
    response = httpx.request(
        method,
        example.server.url + old,
        content=body,
        headers={"Content-Type": content_type},
        follow_redirects=True,
        timeout=30,
    )
    assert [r.status_code for r in response.history] == [308]
    assert response.history[0].headers["Location"] == f"{example.server.url}{new}?src=e2e"
    assert response.status_code == (201 if method == "POST" else 200)
    _check_received(response.json(), method, new, body)


@pytest.mark.parametrize(("body", "content_type"), BODIES)
@pytest.mark.parametrize("method", METHODS)
def test_requests_follows_with_method_and_body(
    example: Example, method: str, body: bytes, content_type: str
) -> None:
    old, new = _url(method)
    # requests turns a POST into a GET after a 301 or 302: only a 307/308 keeps it.
    response = requests.request(
        method,
        example.server.url + old,
        data=body,
        headers={"Content-Type": content_type},
        timeout=30,
    )
    assert [r.status_code for r in response.history] == [308]
    _check_received(response.json(), method, new, body)


@pytest.mark.parametrize("method", METHODS)
def test_curl_follows_with_method_and_body(example: Example, method: str, tmp_path: Path) -> None:
    old, new = _url(method)
    body_file = tmp_path / "body"
    body_file.write_bytes(BINARY_BODY)
    # No -X for POST: then curl itself decides the method after each redirect, and turns a
    # POST into a GET after a 301 or 302, as browsers do. -X would force POST on every hop.
    how = [] if method == "POST" else ["-X", method]
    result = subprocess.run(
        [CURL, "-sS", "-L", *how, "--data-binary", f"@{body_file}",
         "-H", "Content-Type: application/octet-stream",
         "-w", "\n%{num_redirects} %{http_code}", example.server.url + old],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    answer, _, counts = result.stdout.rpartition(b"\n")
    assert counts.decode() == f"1 {201 if method == 'POST' else 200}"
    _check_received(json.loads(answer), method, new, BINARY_BODY)


def test_curl_data_json_post(example: Example) -> None:
    result = subprocess.run(
        [CURL, "-sS", "-L", "-X", "POST", "-H", "Content-Type: application/json",
         "--data", JSON_BODY.decode(), example.server.url + "/api/v1/orders?src=e2e"],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    seen = json.loads(result.stdout)
    _check_received(seen, "POST", "/api/v2/orders", JSON_BODY)
    assert json.loads(seen["body"]) == json.loads(JSON_BODY)


def test_get_on_the_old_api_is_a_301(example: Example) -> None:
    response = httpx.get(example.server.url + "/api/v1/orders", timeout=30)
    assert response.status_code == 301
    assert response.headers["Location"] == example.server.url + "/api/v2/orders"
    assert response.headers["Cache-Control"] == "max-age=3600"
    assert response.headers["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"


@pytest.mark.parametrize(
    ("old", "new", "title"),
    [
        ("/about-us.html", "/about", "About us"),
        ("/products.php?id=1", "/products/widget", "The widget"),
        ("/blog/2019/05/hello-world.html", "/blog/hello-world", "Hello, world"),
    ],
)
def test_legacy_map_url_is_a_301_to_the_new_page(
    example: Example, old: str, new: str, title: str
) -> None:
    response = requests.get(example.server.url + old, timeout=30)
    assert [(r.status_code, r.headers["Location"]) for r in response.history] == [
        (301, example.server.url + new)
    ]
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in response.text


def _status_becomes(url: str, want: int) -> httpx.Response:
    """Ask until the answer has status ``want``: the flag file is looked at once a second."""
    deadline = time.monotonic() + 15
    response = httpx.post(url, content=b"{}", timeout=30)
    while response.status_code != want and time.monotonic() < deadline:
        response = httpx.post(url, content=b"{}", timeout=30)
    return response


def test_maintenance_flag_file_switches_maintenance_on_and_off(example: Example) -> None:
    url = example.server.url + "/api/v2/orders"
    flag = example.folder / "maintenance.flag"
    assert httpx.get(url, timeout=30).status_code == 200
    flag.touch()
    try:
        response = _status_becomes(url, 503)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "600"
        assert httpx.get(example.server.url + "/healthz", timeout=30).status_code == 200
    finally:
        flag.unlink()
    assert _status_becomes(url, 201).status_code == 201


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_maintenance_env_var_answers_503(framework: str) -> None:
    folder = EXAMPLES / f"{framework}_app"
    env = {**OFF, "MAINTENANCE": "true"}
    with serve(command(framework, folder), env=env, ready_path="/healthz") as server:
        response = requests.post(server.url + "/api/v1/orders", data=b"{}", timeout=30)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "600"
        assert response.history == []
        assert requests.get(server.url + "/healthz", timeout=30).text == "ok\n"


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_serve_script_starts_the_example(framework: str) -> None:
    script = EXAMPLES / f"{framework}_app" / "serve.py"
    # The README's one command, on a free port and with the https rule switched on.
    env = {**OFF, "FORCE_HTTPS": "true"}
    argv = [sys.executable, str(script), "--port", "{port}"]
    with serve(argv, env=env, ready_path="/healthz") as server:
        assert httpx.get(server.url + "/healthz", timeout=30).text == "ok\n"
        response = httpx.post(server.url + "/api/v1/orders", content=b"{}", timeout=30)
        # http -> https and /api/v1 -> /api/v2 in one hop, and the port of plain http dropped.
        assert response.status_code == 308
        assert response.headers["Location"] == "https://127.0.0.1/api/v2/orders"
        log = server.log()
    assert f"curl -i {server.url}/api/v1/orders" in log


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_invalid_rule_file_stops_the_server_at_start_up(framework: str, tmp_path: Path) -> None:
    folder = tmp_path / "app"
    shutil.copytree(EXAMPLES / f"{framework}_app", folder)
    rules = folder / "redirects.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("to: /api/v2/{rest}", "to: /api/v2/{rset}"),
        encoding="utf-8",
    )
    with pytest.raises(ServerError) as failed, serve(command(framework, folder), env=OFF):
        pass
    assert "placeholder {rset} is not captured" in str(failed.value)
    assert f"{rules}:" in str(failed.value)
