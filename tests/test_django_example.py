"""The Django example's README shows real output: its curl commands, run against runserver."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Server, serve

pytestmark = pytest.mark.servers

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "django_project"
README = EXAMPLE / "README.md"
CURL = "/usr/bin/curl"
#: The ports the README's commands use, and the settings each server runs with.
SETTINGS = {"8001": "shop.settings", "8002": "shop.native_settings"}
ENV = {"MAINTENANCE": "false", "FORCE_HTTPS": "false", "DJANGO_DEBUG": "false"}


def _runserver(settings: str) -> list[str]:
    return [sys.executable, str(EXAMPLE / "manage.py"), "runserver", "127.0.0.1:{port}",
            "--noreload", f"--settings={settings}"]  # fmt: skip


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Server]]:
    """Both shops under runserver, by the port the README gives them."""
    with (
        serve(_runserver(SETTINGS["8001"]), env=ENV, ready_path="/healthz") as shop,
        serve(_runserver(SETTINGS["8002"]), env=ENV, ready_path="/healthz") as native,
    ):
        yield {"8001": shop, "8002": native}


def _examples() -> list[tuple[str, str]]:
    """Every ``$ curl ...`` line of the README's console blocks, with the output shown."""
    text = README.read_text(encoding="utf-8")
    pairs: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            pairs.append((command, output))
    return pairs


def test_the_readme_shows_every_rule_and_the_comparison() -> None:
    commands = " ".join(command for command, _ in _examples())
    for needle in ("/api/v1/orders", "/forms/contact", "item.php", "contact.html", "8002"):
        assert needle in commands


@pytest.mark.parametrize(("command", "shown"), _examples())
def test_a_readme_command_prints_what_the_readme_shows(
    servers: dict[str, Server], command: str, shown: str
) -> None:
    (port,) = set(re.findall(r"127\.0\.0\.1:(800[12])", command))
    real = str(servers[port].port)
    args = shlex.split(command.replace(f"127.0.0.1:{port}", f"127.0.0.1:{real}"))
    assert args[0] == "curl"
    done = subprocess.run([CURL, *args[1:]], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    expected = shown.replace(f"127.0.0.1:{port}", f"127.0.0.1:{real}")
    # The JSON echo ends without a newline; the README shows it on a line of its own.
    printed = done.stdout if done.stdout.endswith("\n") else done.stdout + "\n"
    assert printed == expected, servers[port].log()
