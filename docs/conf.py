"""Sphinx configuration: the redirectware site, Markdown through MyST, the furo theme.

Built by ``./scripts/docs`` (warnings are errors). The command-line reference is written
from the argparse parser at build time (``_ext/cli_reference.py``); the rule kinds' page,
``kinds.md``, is written from the kinds' registry and a test keeps it current.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
# The package itself, so that a build from a checkout documents the checkout.
sys.path.insert(0, str(HERE.parent / "src"))

from redirectware import __version__  # noqa: E402

project = "redirectware"
author = "redirectware developers"
copyright = "redirectware developers"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "cli_reference",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext"]

# GitHub-style anchors for headings, so that links written for GitHub work on the site too.
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence", "deflist"]

html_theme = "furo"
html_title = f"redirectware {release}"
html_static_path = ["_static"]
# A favicon of its own: without one, browsers ask for /favicon.ico and log a 404.
html_favicon = "_static/favicon.svg"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}
nitpicky = False

# Pages link to files of the repository (examples, tests, the benchmarks): those are not
# pages of the site, and MyST would warn on each one.
suppress_warnings: list[str] = []
