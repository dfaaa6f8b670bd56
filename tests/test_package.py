"""The package itself: public names, no framework imported by the core, typed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import redirectware

FRAMEWORKS = ("django", "flask", "werkzeug", "starlette", "fastapi", "uvicorn", "httpx")


def test_importing_the_core_loads_no_framework() -> None:
    code = (
        "import json, sys, redirectware; "
        "redirectware.RuleSet.from_dict({'version': 1, 'rules': [{'https': True}]})"
        ".resolve('GET', 'http', 'example.com', '/'); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    loaded = {name.split(".")[0] for name in json.loads(output)}
    assert loaded.isdisjoint(FRAMEWORKS), loaded & set(FRAMEWORKS)
    assert "redirectware" in loaded


def test_public_names() -> None:
    assert set(redirectware.__all__) >= {
        "RedirectMiddleware", "WSGIRedirectMiddleware", "RuleSet", "RuleError",
    }  # fmt: skip
    assert issubclass(redirectware.RuleError, ValueError)
    for name in redirectware.__all__:
        if name != "__version__":
            assert getattr(redirectware, name).__doc__, f"{name} needs a docstring"


def test_typed_marker_ships() -> None:
    assert (Path(redirectware.__file__).parent / "py.typed").is_file()
