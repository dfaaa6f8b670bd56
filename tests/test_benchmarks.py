"""The benchmark script runs and prints every row it promises (it is not a test of speed)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

# Runs the benchmark scripts in subprocesses: left out of the quick loop (README, Development).
pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redirectware_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_quick_run_prints_every_row_and_target() -> None:
    bench = load_bench()
    # A subprocess: the script configures Django settings, which must not leak into the tests.
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=ROOT,
    )
    rows = {
        (cells[1].strip(), cells[2].strip())
        for line in done.stdout.splitlines()
        if line.startswith("|") and len(cells := line.split("|")) > 3
    }
    missing = [name for name in bench.expected_rows(bench.QUICK_SIZES) if name not in rows]
    assert not missing
    assert "-row CSV map load / csv.reader alone" in done.stdout
    assert "ASGI pass-through added cost" in done.stdout
    assert "fresh URL" in done.stdout and "repeated URL" in done.stdout


def test_floor_script_prints_every_variant() -> None:
    # Each variant raises if its request was not a remembered pass-through, so a run that
    # completes measured what it says it did.
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "floor.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    names = [line.split("|")[1].strip() for line in done.stdout.splitlines()[2:]]
    assert names == [
        "bare app",
        "Starlette HTTPSRedirectMiddleware",
        "redirectware RedirectMiddleware",
        "minimal",
        "no Host scan (incorrect)",
        "plain call (not shippable)",
    ]


def test_export_nginx_script_prints_every_size() -> None:
    # Starts Debian's nginx per size: what an exported map costs (docs/export.md).
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "export_nginx.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=ROOT,
    )
    labels = [line.split("|")[1].strip() for line in done.stdout.splitlines()[3:]]
    assert labels == ["no redirects", "10 rows", "200 rows"]
    assert all(" ms" in line for line in done.stdout.splitlines()[3:])
