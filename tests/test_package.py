"""The package itself: public names, no framework imported by the core, typed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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


ROOT = Path(__file__).resolve().parent.parent

#: Run in a fresh interpreter: a finder that makes MODULES look uninstalled (as a real
#: missing package does, ModuleNotFoundError), then the import under test.
BLOCKED_IMPORT = """\
import importlib.abc, sys
MODULES = set(sys.argv[1].split(","))

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in MODULES:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
exec(sys.argv[2])
"""


def _without(modules: str, code: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED_IMPORT, modules, code, *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("blocked", "code", "hint"),
    [
        (
            "asgiref",
            "import redirectware.django",
            "redirectware.django needs the 'django' extra (No module named 'asgiref'): "
            "pip install 'redirectware[django]'",
        ),
        (
            "django",
            "from redirectware.django import RedirectMiddleware",
            "redirectware.django needs the 'django' extra (No module named 'django'): "
            "pip install 'redirectware[django]'",
        ),
        (
            "flask",
            "from redirectware.flask import Redirectware",
            "redirectware.flask needs the 'flask' extra (No module named 'flask'): "
            "pip install 'redirectware[flask]'",
        ),
        (
            "prometheus_client",
            "import redirectware.metrics",
            "redirectware metrics needs the 'prometheus' extra (No module named "
            "'prometheus_client'): pip install 'redirectware[prometheus]'",
        ),
        (
            "opentelemetry",
            "import redirectware.otel",
            "redirectware OpenTelemetry metrics needs the 'otel' extra (No module named "
            "'opentelemetry'): pip install 'redirectware[otel]'",
        ),
    ],
    ids=["django-without-asgiref", "django", "flask", "prometheus", "otel"],
)
def test_a_missing_framework_names_the_extra_to_install(blocked: str, code: str, hint: str) -> None:
    done = _without(blocked, code)
    assert done.returncode == 1
    # An ImportError, as any failed import is to a library user.
    assert done.stderr.splitlines()[-1] == f"redirectware._extras.MissingExtra: {hint}", done.stderr


#: A module that cannot be imported, as a package that is not installed cannot.
_UNIMPORTABLE = "raise ModuleNotFoundError(f'No module named {__name__!r}', name=__name__)\n"


@pytest.mark.parametrize(
    ("module", "argv", "line"),
    [
        (
            "rapidfuzz",
            ["suggest", "--not-found", "{dir}/404.json", "--urls", "{dir}/urls.txt"],
            "redirectware suggest: error: fuzzy matching needs the 'suggest' extra (No module "
            "named 'rapidfuzz'): pip install 'redirectware[suggest]'",
        ),
        (
            "uvicorn",
            ["serve", "{dir}/plain.yaml"],
            "redirectware serve: error: the standalone server needs the 'serve' extra (No "
            "module named 'uvicorn'): pip install 'redirectware[serve]'",
        ),
        (
            "lmdb",
            ["compile", "{dir}/plain.yaml"],
            "redirectware compile: error: compiling maps needs the 'lmdb' extra (No module "
            "named 'lmdb'): pip install 'redirectware[lmdb]'",
        ),
        (
            "re2",
            ["check", "{dir}/regex.yaml"],
            "redirectware check: error: {dir}/regex.yaml:3: rules[0]: from_regex: from_regex "
            "needs the 'regex' extra (No module named 're2'): pip install "
            "'redirectware[regex]'",
        ),
        (
            "re2",
            ["explain", "{dir}/regex.yaml", "GET", "http://example.com/a/1"],
            "redirectware explain: error: {dir}/regex.yaml:3: rules[0]: from_regex: from_regex "
            "needs the 'regex' extra (No module named 're2'): pip install "
            "'redirectware[regex]'",
        ),
        (
            "httpx",
            ["verify", "{dir}/plain.yaml", "http://127.0.0.1:9"],
            "redirectware verify: error: checking a live site needs the 'verify' extra (No "
            "module named 'httpx'): pip install 'redirectware[verify]'",
        ),
    ],
    ids=["suggest", "serve", "compile", "check-from-regex", "explain-from-regex", "verify"],
)
def test_a_command_without_its_extra_prints_one_line_to_install_it(
    tmp_path: Path, module: str, argv: list[str], line: str
) -> None:
    # A directory first on sys.path whose module raises on import: the command runs for
    # real, in its own interpreter, with that package made unimportable.
    (tmp_path / "missing").mkdir()
    (tmp_path / "missing" / f"{module}.py").write_text(_UNIMPORTABLE, encoding="utf-8")
    (tmp_path / "404.json").write_text('["/old-page"]', encoding="utf-8")
    (tmp_path / "urls.txt").write_text("/new-page\n", encoding="utf-8")
    (tmp_path / "plain.yaml").write_text(
        "version: 1\nrules:\n  - map: rows.csv\n", encoding="utf-8"
    )
    (tmp_path / "rows.csv").write_text("from,to\n/a,/b\n", encoding="utf-8")
    (tmp_path / "regex.yaml").write_text(
        "version: 1\nrules:\n  - from_regex: /a/(?P<n>[0-9]+)\n    to: /b/{n}\n",
        encoding="utf-8",
    )
    path = os.pathsep.join((str(tmp_path / "missing"), str(ROOT / "src")))
    done = subprocess.run(
        [sys.executable, "-m", "redirectware", *(a.format(dir=tmp_path) for a in argv)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert done.stderr.splitlines() == [line.format(dir=tmp_path)], done.stderr
    assert done.returncode == 2
    assert done.stdout == ""


def test_the_core_imports_without_any_framework() -> None:
    done = _without("django,asgiref,flask,werkzeug,starlette,uvicorn", "import redirectware")
    assert done.returncode == 0, done.stderr


@pytest.mark.servers  # builds the wheel: seconds, not milliseconds
def test_the_wheel_carries_the_mit_license(tmp_path: Path) -> None:
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("redirectware-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (license_name,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(license_name).decode().startswith("MIT License")
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().splitlines()
    assert "License-Expression: MIT" in lines
    assert "License-File: LICENSE" in lines


#: Extras for working on redirectware, not features of it: ``all`` leaves them out.
NOT_FEATURES = frozenset({"all", "dev", "docs", "lint", "test"})
_EXTRA_REFERENCE = re.compile(r"^redirectware\[(?P<extras>[^\]]+)\]$")


def test_all_holds_every_feature_extra() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11+")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    in_all: set[str] = set()
    for requirement in extras["all"]:
        found = _EXTRA_REFERENCE.match(requirement.replace(" ", ""))
        assert found is not None, f"all: {requirement!r} is not redirectware[EXTRA]"
        in_all.update(found["extras"].split(","))
    features = set(extras) - NOT_FEATURES
    assert features - in_all == set(), "pip install 'redirectware[all]' leaves these out"
    assert in_all - features == set(), "all names extras that do not exist"
