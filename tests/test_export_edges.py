"""``redirectware export nginx|caddy|apache``, proven against Debian's servers themselves.

Each document is exported, the real server is started on 127.0.0.1 with the export, and the
same requests go to it and to the middleware under uvicorn (tests/edge_differential.py):
status, Location, Cache-Control, Sunset and Deprecation must be equal for every method.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.edge_differential import FIXTURES, ROOT, prove
from tests.edge_servers import apache, caddy, nginx

pytestmark = pytest.mark.servers

#: Each export target: the server that runs it, and where Debian installs its binary.
EDGES: dict[str, tuple[Callable[..., Any], str, str]] = {
    "nginx": (nginx, "nginx", "/usr/sbin/nginx"),
    "caddy": (caddy, "caddy", "/usr/bin/caddy"),
    "apache": (apache, "apache2", "/usr/sbin/apache2"),
}

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


@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize(
    "document",
    [
        pytest.param(FIXTURES / "every_kind.yaml", id="every-kind"),
        pytest.param(FIXTURES / "strict_codes.yaml", id="strict-codes"),
        pytest.param(FIXTURES / "gone_and_matching.yaml", id="gone-and-matching"),
        pytest.param(FIXTURES / "regex.yaml", id="from-regex"),
        pytest.param(None, id="readme"),
    ],
)
def test_the_edge_answers_as_the_middleware(
    edge: str, document: Path | None, tmp_path: Path
) -> None:
    if document is None:
        document = tmp_path / "redirects.yaml"
        document.write_text(README_DOC)
    assert prove(document, edge, EDGES[edge][0], tmp_path) > 100


@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize("force_https", ["true", "false"])
def test_chains_through_https_and_the_canonical_host_are_one_redirect(
    edge: str, force_https: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # www.example.com/api/v1/x: https, then example.com, then /api/v2: the middleware
    # sends one redirect to https://example.com/api/v2/x, and so must the edge.
    monkeypatch.setenv("FORCE_HTTPS", force_https)
    env = {"FORCE_HTTPS": force_https}
    assert prove(FIXTURES / "chains.yaml", edge, EDGES[edge][0], tmp_path, env) > 100


@pytest.mark.parametrize("edge", EDGES)
def test_the_edge_answers_as_the_middleware_with_https_forced(
    edge: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FORCE_HTTPS=true: the https rule chains into /api/v1 -> /api/v2, which the middleware
    # answers with one redirect; the export writes that chain as one redirect too.
    monkeypatch.setenv("FORCE_HTTPS", "true")
    document = tmp_path / "redirects.yaml"
    document.write_text(README_DOC)
    assert prove(document, edge, EDGES[edge][0], tmp_path, {"FORCE_HTTPS": "true"}) > 100


def test_the_readme_document_is_the_readme_s() -> None:
    # The document above is the README's first one: if the README changes, so must the proof.
    readme = (ROOT / "README.md").read_text()
    for line in (
        "from: /api/v1/{rest:path}",
        "enabled: ${FORCE_HTTPS:-false}",
        "except: [/healthz]",
    ):
        assert line in readme


@pytest.mark.parametrize("edge", EDGES)
def test_the_edge_server_is_installed(edge: str) -> None:
    # .ci/run installs them; a machine without one must fail here, not skip the proof.
    _, binary, path = EDGES[edge]
    assert shutil.which(binary) or Path(path).exists()
