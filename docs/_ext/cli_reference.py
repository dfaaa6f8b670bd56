"""Write the command-line reference from ``redirectware.cli.build_parser()`` at build time.

A page holds the line ``<!-- cli-reference -->``; when Sphinx reads it, the line is
replaced by one section per command with its ``--help`` text, so the page can never
describe an option the command does not have.
"""

from __future__ import annotations

import argparse
from typing import Any

MARKER = "<!-- cli-reference -->"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def reference() -> str:
    """The Markdown of every command: its usage, description and options, as ``--help``."""
    from redirectware.cli import build_parser

    parser = build_parser()
    # A fixed width, so that the page is the same on every machine.
    parts = ["```text", _help(parser), "```", ""]
    for name, command in _subparsers(parser).items():
        parts += [f"### `redirectware {name}`", "", "```text", _help(command), "```", ""]
    return "\n".join(parts)


def _help(parser: argparse.ArgumentParser) -> str:
    import os

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return parser.format_help().rstrip()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _source_read(app: Any, docname: str, source: list[str]) -> None:
    if MARKER in source[0]:
        source[0] = source[0].replace(MARKER, reference())


def setup(app: Any) -> dict[str, Any]:
    """Register the replacement with Sphinx."""
    app.connect("source-read", _source_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
