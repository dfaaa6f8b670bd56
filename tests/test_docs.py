"""The documentation is tested: its rule documents, its tutorials and the built site.

- Every YAML block of ``docs/`` and the README is a rule document that loads, and whose
  ``tests:`` pass. A block preceded by ``<!-- rule-error -->`` is a deliberate mistake: it
  must fail to load, with the very message the page shows in the ``text`` block after it.
- Every tutorial is run as a reader would: its files are written, its commands run in order,
  its server started for real (uvicorn, gunicorn, ``manage.py runserver``), and each command's
  output must contain the lines the page shows (``...`` stands for lines left out).
- The site is built with Sphinx and opened in headless Chromium: pages render without console
  errors, and the search finds the maintenance reference.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from redirectware import RuleError, RuleSet
from redirectware.testing import check_expectations
from tests.django_site import configure

from .servers import Server, serve

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Marks a YAML block that must fail to load, with the message of the next text block.
ERROR_MARK = "<!-- rule-error -->"
#: Files the documents name, as the pages describe them.
NAMED_FILES = {"legacy-urls.csv": "from,to\n/old-page,/new-page\n"}

_FENCE = re.compile(
    r"^(?P<indent> *)```(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: Path
    line: int
    language: str
    caption: str | None
    body: str
    marked_error: bool

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _pages() -> list[Path]:
    pages = [p for p in DOCS.rglob("*.md") if "_build" not in p.parts]
    return [ROOT / "README.md", *sorted(pages)]


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, in order, with a ``{code-block}``'s caption."""
    text = page.read_text(encoding="utf-8")
    found: list[Block] = []
    for match in _FENCE.finditer(text):
        indent = len(match["indent"])
        body = "\n".join(line[indent:] for line in match["body"].split("\n"))
        info = match["info"].strip()
        caption = None
        if info.startswith("{code-block}"):
            info = info.removeprefix("{code-block}").strip()
            options = re.match(r"((?::\w[\w-]*:[^\n]*\n)+)\n?", body)
            if options is not None:
                body = body[options.end() :]
                named = re.search(r"^:caption: *(.*)$", options[1], re.M)
                caption = named[1].strip() if named else None
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1].strip()
        line = text[: match.start()].count("\n") + 1
        language = info.split()[0] if info else ""
        found.append(Block(page, line, language, caption, body, before == ERROR_MARK))
    return found


def _yaml_blocks() -> list[Block]:
    return [b for page in _pages() for b in blocks(page) if b.language == "yaml"]


YAML_BLOCKS = _yaml_blocks()


def test_the_pages_hold_rule_documents() -> None:
    # A broken pattern would make the test below check nothing.
    assert len(YAML_BLOCKS) >= 20
    assert sum(b.marked_error for b in YAML_BLOCKS) >= 1


@pytest.fixture
def database_table() -> None:
    """The admin's redirect table, for documents with ``map: {database: ...}``."""
    from django.core.management import call_command

    call_command("migrate", "redirectware", verbosity=0)


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=[b.where for b in YAML_BLOCKS])
def test_every_yaml_block_is_a_rule_document_whose_tests_pass(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    for name, text in NAMED_FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    # The documents read switches from the environment: as on a machine that sets none.
    for variable in ("MAINTENANCE", "FORCE_HTTPS"):
        monkeypatch.delenv(variable, raising=False)
    if "database:" in block.body:
        configure()
        request.getfixturevalue("database_table")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "redirects.yaml").write_text(block.body, encoding="utf-8")
    if block.marked_error:
        with pytest.raises(RuleError) as caught:
            RuleSet.from_file("redirects.yaml")
        following = blocks(block.page)
        shown = next(b for b in following if b.line > block.line and b.language == "text")
        assert shown.body.strip() == str(caught.value), f"{block.where} shows another error"
        return
    rules = RuleSet.from_file("redirects.yaml")
    if "\ntests:" in "\n" + block.body:
        assert check_expectations(rules) > 0


# --- the tutorials, run against real servers ----------------------------------------------------

TUTORIALS = sorted((DOCS / "tutorials").glob("*.md"))
TUTORIALS = [t for t in TUTORIALS if t.name != "index.md"]
#: What each tutorial's ``pip install`` brings: present here, installed by ./scripts/setup.
INSTALLED = {"fastapi.md": ["fastapi", "uvicorn"], "flask.md": ["flask", "gunicorn"]}
INSTALLED["django.md"] = ["django"]
_SERVER = re.compile(r"\b(uvicorn|gunicorn|runserver)\b")
_PORT = "8000"


def _commands(block: Block) -> list[tuple[str, list[str]]]:
    """A console block's ``$ command`` lines, each with the output lines shown under it."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def _shown_in(shown: list[str], output: str) -> bool:
    """Whether the lines shown appear in the output in order (``...``: any lines between)."""
    lines = output.replace("\r\n", "\n").splitlines()
    position = 0
    skipping = False
    for want in shown:
        if want == "...":
            skipping = True
            continue
        while position < len(lines) and lines[position] != want:
            if not skipping:
                return False
            position += 1
        if position == len(lines):
            return False
        position += 1
        skipping = False
    return True


def _local(command: str) -> str:
    # The reader's .venv is this interpreter's environment (./scripts/setup installed it).
    return command.replace(".venv/bin/", str(Path(sys.executable).parent) + "/")


@pytest.mark.servers
@pytest.mark.parametrize("tutorial", TUTORIALS, ids=[t.stem for t in TUTORIALS])
def test_a_tutorial_runs_as_written(tutorial: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    folder = tmp_path
    server = None
    steps = 0
    with _tutorial_server() as start:
        for block in blocks(tutorial):
            if block.caption is not None:
                append = block.caption.startswith("append to ")
                target = folder / block.caption.removeprefix("append to ")
                assert append or block.language in ("yaml", "python"), block.where
                with target.open("a" if append else "w", encoding="utf-8") as out:
                    out.write(("\n" if append else "") + block.body)
                continue
            if block.language != "console":
                continue
            for command, shown in _commands(block):
                steps += 1
                if command.startswith("mkdir ") and " && cd " in command:
                    folder = folder / command.split(" && cd ")[1].strip()
                    folder.mkdir()
                    continue
                if "-m venv" in command or "pip install" in command:
                    # Installed already: what the command would bring must be there.
                    for module in INSTALLED[tutorial.name]:
                        __import__(module)
                    continue
                if _SERVER.search(command):
                    server = start(_local(command), folder, env)
                    continue
                port = str(server.port) if server is not None else _PORT
                line = _local(command).replace(_PORT, port)
                done = subprocess.run(
                    ["bash", "-c", line], cwd=folder, env=env, capture_output=True,
                    text=True, timeout=120,
                )  # fmt: skip
                assert done.returncode == 0, f"{tutorial.name}: {command}\n{done.stderr}"
                want = [s.replace(_PORT, port) for s in shown]
                output = done.stdout  # curl's progress meter goes to stderr
                assert _shown_in(want, output), (
                    f"{tutorial.name}: {command}\nthe page shows:\n"
                    + "\n".join(want) + f"\nbut it printed:\n{output}"
                    + (f"\nserver log:\n{server.log()}" if server is not None else "")
                )  # fmt: skip
    assert server is not None, f"{tutorial.name} starts no server"
    assert steps >= 6


@contextmanager
def _tutorial_server() -> Iterator[Callable[[str, Path, dict[str, str]], Server]]:
    """Start the tutorial's server when its command comes; stop it when the test ends."""
    with ExitStack() as stack:

        def start(command: str, folder: Path, env: dict[str, str]) -> Server:
            argv = [part.replace(_PORT, "{port}") for part in shlex.split(command)]
            if "runserver" in argv:
                # Django's autoreloader runs the server in a child that outlives a SIGTERM
                # to its parent; the page's command is otherwise run as written.
                argv.append("--noreload")
            extra = {"PYTHONPATH": env["PYTHONPATH"]}
            return stack.enter_context(serve(argv, cwd=folder, env=extra))

        yield start


# --- the built site, in a real browser ----------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site built as ./scripts/docs builds it, served by a real HTTP server."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(out)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}"]
    with serve([*command, "--directory", str(out)]) as server:
        yield server.url


def _errors(page: Any) -> list[str]:
    """The console errors and uncaught exceptions the page has reported so far."""
    found: list[str] = []
    for message in page.received:
        params = message.get("params", {})
        match message["method"]:
            case "Runtime.exceptionThrown":
                found.append(json.dumps(params["exceptionDetails"])[:500])
            case "Runtime.consoleAPICalled" if params.get("type") == "error":
                found.append(json.dumps(params.get("args"))[:500])
            case "Log.entryAdded" if params["entry"]["level"] == "error":
                found.append(f"{params['entry'].get('url')}: {params['entry']['text']}")
    return found


@pytest.mark.browser
def test_the_site_renders_without_console_errors_and_search_finds_maintenance(
    site: str,
) -> None:
    from tests.cdp import chromium

    with chromium() as page:
        page.call("Runtime.enable")
        page.call("Log.enable")
        for path, heading in [
            ("/index.html", "redirectware"),
            ("/tutorials/fastapi.html", "Your first redirects with FastAPI or Starlette"),
            ("/reference/rules.html", "The rule document"),
            ("/kinds.html", "Rule kinds and where each one works"),
        ]:
            page.go(site + path)
            assert page.js("document.querySelector('h1').innerText").startswith(heading), path
            assert _errors(page) == [], path
        page.go(site + "/search.html?q=maintenance")
        # Sphinx searches in the page, after loading its index: wait for the results.
        found = page.call(
            "Runtime.evaluate",
            expression="""new Promise(done => {
                // Results arrive page by page: wait for Sphinx's "Search finished" summary.
                const look = () => {
                    const summary = document.querySelector('#search-results .search-summary');
                    const links = document.querySelectorAll('#search-results li a');
                    if (summary && summary.innerText.startsWith('Search finished'))
                        done([...links].map(a => a.getAttribute('href')));
                    else setTimeout(look, 50);
                };
                look();
            })""",
            awaitPromise=True,
            returnByValue=True,
        )["result"]["value"]
        assert _errors(page) == []
    assert any(href.startswith("kinds.html") for href in found), found
    assert any("maintenance" in href for href in found), found


def test_the_errors_page_lists_every_id_check_and_django_report() -> None:
    page = (DOCS / "reference" / "errors.md").read_text(encoding="utf-8")
    checks = (ROOT / "src" / "redirectware" / "django" / "checks.py").read_text(encoding="utf-8")
    django_ids = set(re.findall(r"redirectware\.[EW]\d{3}", checks))
    assert len(django_ids) >= 12
    from redirectware.cli.check import NOT_TRANSLATED
    from redirectware.tools.analysis import CHAIN, NEVER_MATCHES, OFF_SITE, SHADOWED
    from redirectware.tools.foreign_syntax import FOREIGN_SYNTAX

    kinds = {CHAIN, SHADOWED, NEVER_MATCHES, OFF_SITE, FOREIGN_SYNTAX, NOT_TRANSLATED}
    kinds |= {"invalid", "test-failed"}
    for name in sorted(django_ids | kinds):
        assert f"`{name}`" in page, f"docs/reference/errors.md does not list {name}"
