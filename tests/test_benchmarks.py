"""The benchmark script runs and prints every row it promises (it is not a test of speed)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

# Runs the benchmark scripts in subprocesses: left out of the quick loop (CONTRIBUTING.md).
pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench.py"


def load_bench() -> ModuleType:
    return load_module(BENCH)


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"redirectware_{path.stem}", path)
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
    targets = [line for line in done.stdout.splitlines() if line.endswith(("|", "x |"))]
    for target in (
        "ASGI pass-through added / Starlette HTTPSRedirect's added: fresh URL",
        "ASGI https redirect / Starlette HTTPSRedirect's redirect: fresh URL",
        "ASGI pass-through added / Starlette HTTPSRedirect's added: repeated URL",
        "WSGI site 100 vs 10 map rows: map hit, fresh URL",
    ):
        assert any(line.startswith(f"| {target} |") for line in targets), target


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


def test_instruction_scenarios_run() -> None:
    # Without valgrind: the inner run each measurement repeats, for every scenario.
    script = ROOT / "benchmarks" / "instructions.py"
    names = load_module(script).SCENARIOS
    assert len(names) >= 8
    for name in names:
        subprocess.run(
            [sys.executable, str(script), "--inner", name, "20"],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=ROOT,
        )


def test_map_storage_prints_each_store() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "map_storage.py"), "--rows", "2000"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    stores = [line.split("|")[1].strip() for line in done.stdout.splitlines()[2:]]
    assert stores[:2] == ["dict (in memory, per worker)", "LMDB (`lmdb`, a wheel)"]


@pytest.mark.servers
def test_bigmaps_measures_both_kinds_of_map() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bigmaps.py"),
            "--rows",
            "3000",
            "--hits",
            "300",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=ROOT,
    )
    assert "| PSS after 300 random map hits |" in done.stdout
    assert "compiled: hit at 3,000 rows / hit at 10 rows" in done.stdout


@pytest.mark.servers
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
