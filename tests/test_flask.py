"""The Flask extension: the shared table through Flask's test client, config, bodies, reload."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request
from werkzeug.test import TestResponse

from redirectware import RuleError, RuleSet, WSGIRedirectMiddleware
from redirectware.flask import Redirectware
from tests.cases import APP_BODY, CASES, Case
from tests.conftest import open_case
from tests.test_cases import _check, check_followed

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
API_DOC: dict[str, Any] = {
    "version": 1,
    "rules": [{"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}"}],
}


def make_app(rules: Any = None, *, root_path: str | None = None) -> Flask:
    """A Flask app that answers every path and method with ``app`` and an X-Echo header."""
    app = Flask(__name__, root_path=root_path)
    if rules is not None:
        app.config["REDIRECTWARE"] = rules

    # Flask answers OPTIONS itself unless told not to; the table expects the app's answer.
    @app.route("/", defaults={"rest": ""}, methods=METHODS, provide_automatic_options=False)
    @app.route("/<path:rest>", methods=METHODS, provide_automatic_options=False)
    def everything(rest: str) -> Response:
        echo = {
            "method": request.method,
            "path": request.path,
            "query": request.query_string.decode("latin-1"),
            "body": request.get_data().decode("latin-1"),
            "content_type": request.content_type,
        }
        return Response(APP_BODY, content_type="text/plain", headers={"X-Echo": json.dumps(echo)})

    return app


def _open(app: Flask, case: Case) -> TestResponse:
    return open_case(app.test_client(use_cookies=False), case)


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_flask_answers_the_shared_table(case: Case) -> None:
    app = make_app(case.document)
    Redirectware(app)
    response = _open(app, case)
    headers = {name.lower(): value for name, value in response.headers.items()}
    _check(case, response.status_code, headers, response.get_data())
    if case.body is not None and case.location is not None:
        followed = open_case(app.test_client(use_cookies=False), case, url=case.location)
        check_followed(case, followed.headers.get("X-Echo"))


def test_factory_pattern_init_app() -> None:
    ext = Redirectware()
    app = make_app(API_DOC)
    ext.init_app(app)
    assert isinstance(app.extensions["redirectware"], WSGIRedirectMiddleware)
    assert app.wsgi_app is app.extensions["redirectware"]
    assert app.test_client().get("/api/v1/a").headers["Location"] == "http://localhost/api/v2/a"
    with app.app_context():
        assert Redirectware.ruleset().rules[0].name == "api"


def test_one_extension_serves_two_apps_with_their_own_rules() -> None:
    ext = Redirectware()
    first, second = make_app(API_DOC), make_app({"version": 1, "rules": [{"https": True}]})
    ext.init_app(first)
    ext.init_app(second)
    assert first.test_client().get("/api/v1/a").status_code == 302
    assert second.test_client().get("/api/v1/a").headers["Location"] == (
        "https://localhost/api/v1/a"
    )


def test_ruleset_object_is_used_as_given() -> None:
    rules = RuleSet.from_dict(API_DOC)
    app = make_app(rules)
    Redirectware(app)
    assert Redirectware.ruleset(app) is rules


def test_relative_path_is_relative_to_root_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "redirects.yaml").write_text(
        "version: 1\nrules:\n  - map: legacy.csv\n    permanent: true\n", encoding="utf-8"
    )
    (tmp_path / "legacy.csv").write_text("from,to\n/old.html,/new\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the working directory must not matter
    app = make_app("redirects.yaml", root_path=str(tmp_path))
    Redirectware(app)
    response = app.test_client().get("/old.html")
    assert (response.status_code, response.headers["Location"]) == (301, "http://localhost/new")


def test_missing_config_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match=r"app\.config\['REDIRECTWARE'\]"):
        Redirectware(make_app())


def test_invalid_document_fails_at_init() -> None:
    app = make_app({"version": 1, "rules": [{"from": "/a/{x}", "to": "/b/{y}"}]})
    with pytest.raises(RuleError, match=r"rules\[0\].*\{y\}"):
        Redirectware(app)
    assert "redirectware" not in app.extensions


def test_second_init_on_the_same_app_is_refused() -> None:
    app = make_app(API_DOC)
    Redirectware(app)
    with pytest.raises(RuntimeError, match="already set up"):
        Redirectware().init_app(app)


def test_missing_file_names_the_resolved_path(tmp_path: Path) -> None:
    app = make_app("nope.yaml", root_path=str(tmp_path))
    with pytest.raises(RuleError, match=r"nope\.yaml: no such file") as raised:
        Redirectware(app)
    assert str(tmp_path) in str(raised.value)


def test_reload_serves_an_edited_file(tmp_path: Path) -> None:
    rule_file = tmp_path / "redirects.yaml"
    rule_file.write_text("version: 1\nrules:\n  - {from: /a, to: /first}\n", encoding="utf-8")
    app = make_app("redirects.yaml", root_path=str(tmp_path))
    app.config["REDIRECTWARE_RELOAD"] = True
    Redirectware(app)
    client = app.test_client()
    assert client.get("/a").headers["Location"] == "http://localhost/first"
    rule_file.write_text(
        "version: 1\nrules:\n  - {from: /a, to: /second-target}\n", encoding="utf-8"
    )
    # The file is looked at once a second at most: ask until the new rule answers.
    deadline = time.monotonic() + 10
    location = "http://localhost/first"
    while location.endswith("/first") and time.monotonic() < deadline:
        location = client.get("/a").headers["Location"]
    assert location == "http://localhost/second-target"


# --- REDIRECTWARE_RELOAD from the environment ------------------------------------------------


def _from_env(monkeypatch: pytest.MonkeyPatch, value: str, rules: Any) -> Flask:
    monkeypatch.setenv("FLASK_REDIRECTWARE_RELOAD", value)
    app = make_app(rules)
    app.config.from_prefixed_env()  # json-parses each value: "false" -> False, "False" stays
    return app


@pytest.mark.parametrize("value", ["False", "false", "FALSE", "0", "no", "No", " false "])
def test_reload_off_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    # A document dict cannot be reloaded: were the value read as True, init_app would refuse it.
    app = _from_env(monkeypatch, value, {"version": 1, "rules": [{"from": "/a", "to": "/b"}]})
    Redirectware(app)
    assert app.extensions["redirectware"].rules.reload is False
    assert app.test_client().get("/a").headers["Location"] == "http://localhost/b"


@pytest.mark.parametrize("value", ["True", "true", "1", "yes", "YES"])
def test_reload_on_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    rule_file = tmp_path / "redirects.yaml"
    rule_file.write_text("version: 1\nrules:\n  - {from: /a, to: /b}\n", encoding="utf-8")
    app = _from_env(monkeypatch, value, str(rule_file))
    Redirectware(app)
    assert app.extensions["redirectware"].rules.reload is True


@pytest.mark.parametrize("value", ["maybe", "2", "off", ""])
def test_reload_that_is_no_boolean_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    app = _from_env(monkeypatch, value, {"version": 1, "rules": [{"from": "/a", "to": "/b"}]})
    expected = "2" if value == "2" else repr(value)  # from_prefixed_env makes "2" the number 2
    with pytest.raises(ValueError) as raised:
        Redirectware(app)
    assert str(raised.value) == (
        "REDIRECTWARE_RELOAD must be true or false (one of true/false/1/0/yes/no, any case), "
        f"not {expected}"
    )
    assert "redirectware" not in app.extensions
