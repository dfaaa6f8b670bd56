"""``redirectware export caddy``, proven against Debian's Caddy (see tests/edge_differential.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.edge_differential import FIXTURES, ROOT, prove
from tests.edge_servers import caddy

pytestmark = pytest.mark.servers

README_DOC = """\
version: 1
settings:
  allowed_hosts: [example.com, www.example.com, localhost, 127.0.0.1]
rules:
  - name: force-https
    https: true
    enabled: ${FORCE_HTTPS:-false}
    permanent: true
    except: [/healthz]
  - name: api-v1-moved
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
"""


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(FIXTURES / "every_kind.yaml", id="every-kind"),
        pytest.param(FIXTURES / "strict_codes.yaml", id="strict-codes"),
        pytest.param(None, id="readme"),
    ],
)
def test_caddy_answers_as_the_middleware(document: Path | None, tmp_path: Path) -> None:
    if document is None:
        document = tmp_path / "redirects.yaml"
        document.write_text(README_DOC)
    assert prove(document, "caddy", caddy, tmp_path) > 100


def test_caddy_answers_as_the_middleware_with_https_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FORCE_HTTPS=true: the https rule chains into /api/v1 -> /api/v2, which the middleware
    # answers with one redirect; the export writes that chain as one redirect too.
    monkeypatch.setenv("FORCE_HTTPS", "true")
    document = tmp_path / "redirects.yaml"
    document.write_text(README_DOC)
    assert prove(document, "caddy", caddy, tmp_path, {"FORCE_HTTPS": "true"}) > 100


def test_the_readme_document_is_the_readme_s() -> None:
    # The document above is the README's first one: if the README changes, so must the proof.
    readme = (ROOT / "README.md").read_text()
    for line in (
        "from: /api/v1/{rest:path}",
        "enabled: ${FORCE_HTTPS:-false}",
        "except: [/healthz]",
    ):
        assert line in readme


def test_caddy_is_installed() -> None:
    # .ci/run installs it; a machine without it must fail here, not skip the proof.
    assert shutil.which("caddy") or Path("/usr/bin/caddy").exists()
