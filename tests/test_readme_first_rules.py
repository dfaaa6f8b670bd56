"""The README's first rule file ("Use it") works on a developer's machine as written, and
turns https on in production with one environment variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from redirectware import RuleSet

README = Path(__file__).resolve().parent.parent / "README.md"


def _first_document(tmp_path: Path) -> Path:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Use it") :]
    (document,) = re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)[:1]
    path = tmp_path / "redirects.yaml"
    path.write_text(document, encoding="utf-8")
    return path


def test_on_localhost_without_force_https_it_redirects_over_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_HTTPS", raising=False)
    rules = RuleSet.from_file(_first_document(tmp_path))
    for host in ("127.0.0.1:8000", "localhost:8000"):
        decision = rules.resolve("POST", "http", host, "/api/v1/orders", "x=1")
        assert (decision.status, decision.location) == (
            307,
            f"http://{host}/api/v2/orders?x=1",
        )
    assert rules.resolve("GET", "http", "127.0.0.1:8000", "/").kind == "pass"


def test_force_https_true_turns_the_https_rule_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_HTTPS", "true")
    rules = RuleSet.from_file(_first_document(tmp_path))
    decision = rules.resolve("POST", "http", "example.com", "/api/v1/orders", "x=1")
    assert (decision.status, decision.location) == (307, "https://example.com/api/v2/orders?x=1")
    assert rules.resolve("GET", "http", "example.com", "/healthz").kind == "pass"
