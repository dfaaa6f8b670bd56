"""The CLI reference's "Checking rules before you deploy" shows real output: keep it true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.console import run_cli

README = Path(__file__).resolve().parent.parent / "docs" / "reference" / "cli.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Checking rules before you deploy")
    end = text.index("\n## ", start + 1) if "\n## " in text[start + 1 :] else len(text)
    return text[start:end]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_output_is_what_the_commands_print(tmp_path: Path) -> None:
    section = _section()
    document = next(b for b in _blocks(section, "yaml") if "tests:" in b)
    (tmp_path / "redirects.yaml").write_text(document, encoding="utf-8")
    consoles = _blocks(section, "console")
    assert len(consoles) == 3
    for block in consoles:
        command, _, shown = block.partition("\n")
        assert command.startswith("$ redirectware ")
        # The README quotes the URL for the shell; the arguments are split the same way here.
        args = [a.strip("'") for a in command.removeprefix("$ redirectware ").split(" ")]
        run = run_cli(*args, cwd=tmp_path)
        assert run.code == 0, run
        assert run.out == shown, f"README shows:\n{shown}\nbut the command prints:\n{run.out}"


def test_the_command_line_does_not_import_uvicorn_until_serve_runs() -> None:
    code = (
        "import sys\n"
        "import redirectware.cli, redirectware.cli.check, redirectware.cli.explain\n"
        "import redirectware.cli.serve, redirectware.testing\n"
        "assert 'uvicorn' not in sys.modules, 'uvicorn imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
