"""``redirectware compile FILE...``: compile every CSV map a document names, ahead of time.

For deploy pipelines: run it where the compiled files can be written (the image build, a
release step), and every worker that starts later maps them at once instead of compiling.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from redirectware._extras import require_extra
from redirectware.engine.compiled_rows import CompiledRows
from redirectware.engine.model import MapAction
from redirectware.ruleset import RuleSet

from . import EXIT_INVALID, EXIT_OK


def run_compile(paths: Sequence[Path]) -> int:
    """Load each document (compiling its maps); print each map's compiled file and rows.

    Exit 1 when a map could not be compiled (no folder it may write); without ``lmdb``,
    :class:`~redirectware._extras.MissingExtra` (the command line says what to install).
    """
    require_extra("compiling maps", "lmdb", ("lmdb",))
    status = EXIT_OK
    for path in paths:
        started = time.perf_counter()
        ruleset = RuleSet.from_file(path)
        elapsed = time.perf_counter() - started
        maps = [rule.action for rule in ruleset.rules if isinstance(rule.action, MapAction)]
        for action in maps:
            if action.source is None:
                continue  # an inline map lives in the document itself
            rows = action.entries
            if isinstance(rows, CompiledRows):
                print(f"{action.source}: {len(rows)} rows -> {rows.path}")
            else:
                print(f"{action.source}: {len(rows)} rows, NOT compiled (see the warning above)")
                status = EXIT_INVALID
        print(f"{path}: loaded in {elapsed:.2f} s")
    return status
