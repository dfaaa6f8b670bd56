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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from redirectware.document.loading import load_source
from redirectware.document.probes import Probe, make_probe, parse_request_line
from redirectware.engine.decision import PASS, Decision
from redirectware.engine.engine import Engine
from redirectware.engine.model import Rule
from redirectware.engine.not_found import AfterNotFound
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


class _Compiled(Engine):
    """The translation's rules, as a rule set answers: loops checked, and what they answer
    after the app's 404."""

    def __init__(self, path: Path) -> None:
        document = load_source(path)
        super().__init__(document)
        check_loops(self)
        self._after_404 = AfterNotFound.of(document)

    def resolve_not_found(
        self,
        method: str,
        scheme: str,
        host: str | None,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        client: str | None = None,
    ) -> Decision:
        """What a request gets after the app's 404, as :class:`~redirectware.RuleSet` says."""
        if self._after_404 is None:
            return PASS
        return self._after_404.resolve(method, scheme, host, path, query, headers, client)


def _compile(result: ImportResult, folder: Path) -> tuple[_Compiled, list[list[Imported]]]:
    """The translation compiled (and the entries behind each rule); entries the loader
    refuses moved to the losses."""
    while True:
        path, owners = _write(result, folder)
        try:
            return _Compiled(path), owners
        except RuleError as error:
            index = error.rule_index
            if index is None or index >= len(owners):
                raise  # a bug of ours, not of the source: let it show
            for item in owners[index]:
                result.items.remove(item)
                result.lose(item.line, item.text, f"redirectware refuses it: {error.message}")


def settle(result: ImportResult) -> None:
    """Drop what the loader refuses; pin the end of chains the engine collapses; report a
    rule that waits for the app's 404 and that a later rule, which always applies, takes
    from it (the source tool tried the earlier one first)."""
    while True:
        with tempfile.TemporaryDirectory(prefix="redirectware-import-") as folder:
            ruleset, owners = _compile(result, Path(folder))
        notes = len(result.notes)
        for item in result.items:
            kept: list[dict[str, Any]] = []
            for test in item.tests:
                verdict = _settled(ruleset, owners, item, test, result)
                if isinstance(verdict, str):
                    result.items.remove(item)
                    result.lose(item.line, item.text, verdict)
                    break
                if verdict:
                    kept.append(test)
            else:
                item.tests[:] = kept
                continue
            # One item fewer: settle the rest again, against the document without it.
            del result.notes[notes:]
            break
        else:
            return


def _answer(ruleset: _Compiled, probe: Probe, not_found: bool) -> Decision:
    """What ``probe`` gets; after the app's 404 too when ``not_found`` (the test says
    ``app: not_found``), as ``tests:`` are run."""
    decision = probe.resolve(ruleset)
    if not_found and decision.passes:
        decision = probe.resolve_not_found(ruleset)
    return decision


def _settled(
    ruleset: _Compiled,
    owners: list[list[Imported]],
    item: Imported,
    test: dict[str, Any],
    result: ImportResult,
) -> bool | str:
    """Adjust ``test`` to what redirectware answers, or say it cannot pin ``item`` (False),
    or why ``item`` cannot answer as the source did (a reason: it is reported)."""
    expect = test["expect"]
    if not isinstance(expect, dict):
        return True
    method, url = parse_request_line(test["request"])
    not_found = test.get("app") == "not_found"
    decision = _answer(ruleset, make_probe(method, url), not_found)
    own = min(index for index, entries in enumerate(owners) if any(e is item for e in entries))

    def first_rule() -> Rule | None:
        # The rule that took the request, unless it is one written for this item.
        rule = decision.hops[0].rule if decision.hops else decision.rule
        if rule is None or any(owner is item for owner in owners[rule.index]):
            return None
        return rule

    first = first_rule()
    if first is not None and url.startswith("http://"):
        # An earlier rule (an https redirect, say) takes the plain-http sample: try https.
        origin = url[: url.find("/", len("http://"))] if "/" in url[7:] else url
        url = "https://" + url[len("http://") :]
        decision = _answer(ruleset, make_probe(method, url), not_found)
        first = first_rule()
        location = str(expect.get("location", ""))
        # A target on the request's own origin follows it to https; another site's stays.
        if location == origin or location.startswith(origin + "/"):
            expect["location"] = "https://" + location[len("http://") :]
        test["request"] = f"{method} {url}"
    if first is not None and not_found and not first.when_not_found and first.index > own:
        # The source tries this line first where the app would answer 404; redirectware
        # answers with the later rule before the app is even asked.
        taker = ", ".join(f"{entry.source}:{entry.line}" for entry in owners[first.index])
        return (
            f"{taker} applies whatever the app serves, so it answers {url} before the app "
            "is asked, where the source tool applies this earlier line first"
        )
    if first is not None:
        where = "an earlier rule" if first.index < own else "a rule that applies first"
        result.notes.append(
            f"{item.source}:{item.line}: its sample request {url} is answered by {where} "
            f"({first.label}); no test pins this rule"
        )
        return False
    if len(decision.hops) > 1 and decision.hops[0].location == expect.get("location"):
        result.notes.append(
            f"{item.source}:{item.line}: {url} -> {expect['location']} continues to "
            f"{decision.location}: the source tool answers each hop, redirectware "
            f"sends one {decision.status} to the end (the test pins that)"
        )
        test["expect"] = {"status": decision.status, "location": decision.location}
    return True
