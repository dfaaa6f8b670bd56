"""Running the installed ``redirectware`` console script in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: The script pip installed next to this interpreter (``.venv/bin/redirectware``).
SCRIPT = Path(sys.executable).with_name("redirectware")
#: A cold start imports PyYAML and the package: well under a second, but CI machines stall.
RUN_TIMEOUT = 60.0


@dataclass(frozen=True)
class Run:
    """The outcome of one run of the script."""

    code: int
    out: str
    err: str


def run_cli(*args: str | os.PathLike[str], cwd: Path | None = None) -> Run:
    """Run ``redirectware ARGS...`` and wait for it to finish."""
    assert SCRIPT.exists(), f"{SCRIPT} is missing: run .venv/bin/pip install -e ."
    done = subprocess.run(
        [str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=RUN_TIMEOUT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return Run(done.returncode, done.stdout, done.stderr)


def write(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``folder/name`` and return the path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
