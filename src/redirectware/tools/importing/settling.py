"""Loading a translation before it is handed over, and settling what the loader shows.

* A source rule the loader refuses (a redirect loop, such as Netlify's ``/* /x/:splat``,
  which also loops on Netlify) is taken out and reported as not translated, with the
  loader's reason: the document written always loads.
* Where the source tool answers ``/a -> /b`` and, on the next request, ``/b -> /c``,
  redirectware sends one redirect to ``/c``: the ``tests:`` entry pins that answer (the
  source's first hop is named in a note), so the tests pass and say what changed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from redirectware.document.loading import load_source
from redirectware.document.probes import make_probe, parse_request_line
from redirectware.engine.engine import Engine
from redirectware.errors import RuleError
from redirectware.tools.loops import check_loops

from .result import Imported, ImportResult
from .writing import render


def _write(result: ImportResult, folder: Path) -> tuple[Path, list[list[Imported]]]:
    written = render(result, map_stem="settling")
    path = folder / "settling.yaml"
    path.write_text(written.document, encoding="utf-8")
    for name, text in written.maps:
        (folder / name).write_text(text, encoding="utf-8")
    return path, written.owners


def _compile(result: ImportResult, folder: Path) -> Engine:
    """The translation compiled; entries the loader refuses moved to the losses."""
    while True:
        path, owners = _write(result, folder)
        try:
            engine = Engine(load_source(path))
            check_loops(engine)
            return engine
        except RuleError as error:
            index = error.rule_index
            if index is None or index >= len(owners):
                raise  # a bug of ours, not of the source: let it show
            for item in owners[index]:
                result.items.remove(item)
                result.lose(item.line, item.text, f"redirectware refuses it: {error.message}")


def settle(result: ImportResult) -> None:
    """Drop what the loader refuses; pin the end of chains the engine collapses."""
    with tempfile.TemporaryDirectory(prefix="redirectware-import-") as folder:
        engine = _compile(result, Path(folder))
    for item in result.items:
        for test in item.tests:
            expect = test["expect"]
            if not isinstance(expect, dict):
                continue
            method, url = parse_request_line(test["request"])
            decision = make_probe(method, url).resolve(engine)
            if len(decision.hops) > 1 and decision.hops[0].location == expect["location"]:
                result.notes.append(
                    f"{item.source}:{item.line}: {url} -> {expect['location']} continues to "
                    f"{decision.location}: the source tool answers each hop, redirectware "
                    f"sends one {decision.status} to the end (the test pins that)"
                )
                test["expect"] = {"status": decision.status, "location": decision.location}
