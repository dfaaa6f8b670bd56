"""benchmarks/django_table.py runs and prints both of its tables (it is not a test of speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Fills three tables and starts Django in a subprocess: seconds, left out of the quick loop.
pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_prints_compile_and_request_rows() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "django_table.py"), "--quick"],
        capture_output=True, text=True, timeout=300, check=True, cwd=ROOT,
    )  # fmt: skip
    rows = [line.split("|")[1:3] for line in done.stdout.splitlines() if line.startswith("| ")]
    names = [(a.strip(), b.strip()) for a, b in rows]
    assert ("CSV file", "") in [(a, "") for a, _ in names]
    assert "table (`map: {database: default}`)" in [a for a, _ in names]
    for middleware in ("neither", "redirectware", "contrib.redirects"):
        assert (middleware, "hit") in names and (middleware, "miss") in names
    # The point of the comparison: no query on redirectware's request path.
    redirectware = [line for line in done.stdout.splitlines() if line.startswith("| redirectware")]
    assert all(line.rstrip(" |").endswith("| 0") for line in redirectware), redirectware
