"""The kinds x surfaces matrix, generated from the registry (``redirectware.kinds``).

Every rule kind and matching option meets every surface: the four adapters, ``check``,
``explain``, ``tests:``, the five exports, the seven importers, the Django table, ``replay``
and the metrics. Each cell runs the kind's worked example (its own ``tests:``) through the
surface for real, and passes only when the surface answers as the middleware does, or, where
the registry says the surface refuses the kind, when it refuses naming file, line, rule and
the registry's reason. A kind added to the engine without its row fails
:func:`test_every_action_has_a_row`; a surface added without its cells fails
:func:`test_every_surface_has_a_cell`.
"""

from __future__ import annotations

import functools
import json
import typing
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from redirectware import RuleSet
from redirectware.engine.engine import Engine
from redirectware.engine.model import GONE_CODES, Action, GoneAction, MapAction, Rule
from redirectware.kinds import ACTIONS, ENTRIES, OPTIONS, Kind, Refuses, Surface, Unsayable, Works
from redirectware.kinds.base import Support
from redirectware.tools.expectations import Expectation, run_expectations
from tests import matrix_cells as cells
from tests.django_site import configure

configure()

#: The file name each importer reads, as the source tool names it.
IMPORT_FILES = {
    Surface.IMPORT_NETLIFY: "_redirects",
    Surface.IMPORT_VERCEL: "vercel.json",
    Surface.IMPORT_NGINX: "site.conf",
    Surface.IMPORT_APACHE: ".htaccess",
    Surface.IMPORT_CLOUDFLARE: "bulk-redirects.csv",
    Surface.IMPORT_DJANGO: "redirects.json",
    Surface.IMPORT_WAGTAIL: "redirects.csv",
}
#: The importer that reads what an export to a list format writes, for the round trip.
ROUND_TRIP = {Surface.EXPORT_CLOUDFLARE: "cloudflare", Surface.EXPORT_NETLIFY: "netlify"}
ADAPTERS = {
    Surface.ASGI: cells.through_asgi,
    Surface.WSGI: cells.through_wsgi,
    Surface.FLASK: cells.through_flask,
    Surface.DJANGO: cells.through_django,
}
EDGES = (Surface.EXPORT_NGINX, Surface.EXPORT_CADDY, Surface.EXPORT_APACHE)


def uses(kind: Kind, rule: Rule) -> bool:
    """Whether ``rule`` is of ``kind`` or uses it; a map row that answers 410 or 451 is the
    ``gone`` kind for one URL (what the importers write for a row with no target)."""
    if kind.action is GoneAction and isinstance(rule.action, MapAction):
        return any(entry.status in GONE_CODES for entry in rule.action.entries.values())
    return kind.uses(rule)


# --- the registry is whole --------------------------------------------------------------------


def test_every_action_has_a_row() -> None:
    registered = {kind.action for kind in ACTIONS}
    assert registered == set(typing.get_args(Action))
    assert set(Engine._STEPS) == registered  # every kind has its engine step


def test_every_option_can_be_told_in_a_rule() -> None:
    assert all(kind.in_use is not None for kind in OPTIONS)
    assert all(kind.in_use is None and kind.action is not None for kind in ACTIONS)


@pytest.mark.parametrize("kind", ENTRIES, ids=lambda kind: kind.key)
def test_every_surface_has_a_cell(kind: Kind) -> None:
    assert set(kind.surfaces) == set(Surface), f"{kind.key}: a surface has no declaration"
    for surface, support in kind.surfaces.items():
        if surface.is_import:
            # An importer that translates or refuses the kind has a source line to prove it.
            has_line = isinstance(support, Works | Refuses)
            assert has_line == (surface in kind.imports), (kind.key, surface)
        else:
            assert not isinstance(support, Unsayable), (kind.key, surface)
        if isinstance(support, Refuses | Unsayable):
            assert support.reason and "issue" not in support.reason.lower()


@pytest.mark.parametrize("kind", ENTRIES, ids=lambda kind: kind.key)
def test_the_example_uses_its_kind(kind: Kind, tmp_path: Path) -> None:
    ruleset = RuleSet.from_file(cells.write_example(kind, tmp_path))
    assert any(uses(kind, rule) for rule in ruleset.rules)
    tests = cells.expectations(tmp_path / "redirects.yaml")
    assert any(not test.passes for test in tests) and any(test.passes for test in tests)


# --- the cells --------------------------------------------------------------------------------


def _adapter(surface: Surface) -> Callable[[Kind, Support, Path], None]:
    def cell(kind: Kind, support: Support, folder: Path) -> None:
        assert isinstance(support, Works)
        path = cells.write_example(kind, folder)
        tests = cells.expectations(path)
        for test, answer in zip(tests, ADAPTERS[surface](path, tests), strict=True):
            cells.judge(test, answer)

    return cell


def check_cell(kind: Kind, support: Support, folder: Path) -> None:
    assert isinstance(support, Works)
    path = cells.write_example(kind, folder)
    count = len(cells.expectations(path))
    status, out, err = cells.run_cli("check", str(path))
    assert status == 0, out + err
    assert f"{count} of {count} tests passed, 0 warnings" in out
    text, words = kind.broken
    broken = folder / "broken.yaml"
    broken.write_text(text)
    status, out, err = cells.run_cli("check", str(broken))
    assert status == 1
    assert words in out + err and f"{broken}:" in out + err, out + err


def explain_cell(kind: Kind, support: Support, folder: Path) -> None:
    assert isinstance(support, Works)
    path = cells.write_example(kind, folder)
    ruleset = RuleSet.from_file(path)
    for test in cells.expectations(path):
        if test.passes or test.probe.client is not None:
            continue
        headers = [f"{name}: {value}" for name, value in test.probe.headers.items()]
        argv = ["explain", str(path), test.probe.method, test.probe.url]
        status, out, err = cells.run_cli(*argv, *(f"--header={h}" for h in headers))
        assert status == 0, err
        decided = [rule for rule in ruleset.rules if f"rule: {rule.label}" in out]
        assert decided, out
        if kind.explain is not None and uses(kind, decided[0]):
            assert kind.explain(decided[0]) in out.splitlines(), out  # the kind's own words
        assert (
            f" {test.status} " in out
            or out.rstrip().endswith(f" {test.status}")
            or (f"HTTP/1.1 {test.status}" in out)
        ), out


def expectations_cell(kind: Kind, support: Support, folder: Path) -> None:
    assert isinstance(support, Works)
    path = cells.write_example(kind, folder)
    assert run_expectations(RuleSet.from_file(path)) == []
    # The same tests with one expectation made wrong: tests: must catch it.
    document = yaml.safe_load(kind.example)
    wrong = next(i for i, t in enumerate(document["tests"]) if t["expect"] != "pass")
    document["tests"][wrong]["expect"] = {"status": 418}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    failures = run_expectations(RuleSet.from_file(path))
    assert [failure.expectation.index for failure in failures] == [wrong]


def refused(kind: Kind, surface: Surface, folder: Path, path: Path, reason: str) -> None:
    """The export to ``surface`` exits non-zero naming the kind's rule and ``reason``."""
    target = surface.value.split()[1]
    status, out, err = cells.run_cli("export", target, str(path))
    assert status != 0, out
    ruleset = RuleSet.from_file(path)
    named = [
        f"{path}:{rule.line_of(kind.key)}: {rule.label}: {kind.key}: {reason}"
        for rule in ruleset.rules
        if uses(kind, rule)
    ]
    assert any(place in err for place in named), (named, err)


def list_export_cell(surface: Surface) -> Callable[[Kind, Support, Path], None]:
    def cell(kind: Kind, support: Support, folder: Path) -> None:
        # Lists send one status to every method: only 307/308 keep a POST a POST.
        document = yaml.safe_load(kind.example_for(surface))
        settings = document.setdefault("settings", {})
        settings["get_codes"] = "strict"
        if surface is Surface.EXPORT_NETLIFY:
            # Netlify matches a path with or without its slash: the document says so too.
            settings["trailing_slash_match"] = "ignore"
        settings.setdefault("allowed_hosts", ["example.com", "www.example.com"])
        path = cells.write_example(kind, folder, yaml.safe_dump(document, sort_keys=False))
        if isinstance(support, Refuses):
            refused(kind, surface, folder, path, support.reason)
            return
        exported = folder / "exported"
        status, _, err = cells.run_cli("export", surface.value.split()[1], str(path),
                                         "-o", str(exported))  # fmt: skip
        assert status == 0, err
        back = folder / "back.yaml"
        status, _, err = cells.run_cli("import", ROUND_TRIP[surface], str(exported),
                                       "-o", str(back))  # fmt: skip
        assert status == 0, err
        original, imported = RuleSet.from_file(path), RuleSet.from_file(back)
        for test in cells.expectations(path):
            for method in ("GET", "POST"):
                probe = test.probe
                args = (method, probe.scheme, probe.headers.get("host", probe.host),
                        probe.path, probe.query)  # fmt: skip
                want, got = original.resolve(*args), imported.resolve(*args)
                assert (want.status, want.location) == (got.status, got.location), probe.line

    return cell


def import_cell(surface: Surface) -> Callable[[Kind, Support, Path], None]:
    def cell(kind: Kind, support: Support, folder: Path) -> None:
        if isinstance(support, Unsayable):
            assert surface not in kind.imports
            return
        sample = kind.imports[surface]
        source = folder / IMPORT_FILES[surface]
        source.write_text(sample.source)
        out = folder / "imported.yaml"
        fmt = surface.value.split()[1]
        status, _, err = cells.run_cli("import", fmt, str(source), "-o", str(out))
        if isinstance(support, Refuses):
            # Reported as not translated, with its line and the registry's reason.
            assert status == 1 and f"{source}:1: " in err and support.reason in err, err
            return
        assert status == 0, err
        ruleset = RuleSet.from_file(out)
        assert any(uses(kind, rule) for rule in ruleset.rules), out.read_text()
        for line, status_wanted, location in sample.answers:
            method, url = line.split(" ", 1)
            scheme, _, rest = url.partition("://")
            host, _, target = rest.partition("/")
            path, _, query = ("/" + target).partition("?")
            decision = ruleset.resolve(method, scheme, host, path, query)
            if decision.passes:
                decision = ruleset.resolve_not_found(method, scheme, host, path, query)
            if status_wanted is None:
                assert decision.passes, (line, decision)
                continue
            assert decision.status == status_wanted, (line, decision, out.read_text())
            if location is not None:
                full = location if "://" in location else f"{scheme}://{host}{location}"
                assert decision.location == full, (line, decision)

    return cell


def replay_cell(kind: Kind, support: Support, folder: Path) -> None:
    assert isinstance(support, Works)
    path = cells.write_example(kind, folder, kind.example_for(Surface.REPLAY))
    lines: list[str] = []
    expected: dict[str, int] = {}
    ruleset = RuleSet.from_file(path)
    tests = cells.expectations(path)
    host = next(test.probe.host for test in tests if not test.passes)
    for test in tests:
        probe = test.probe
        if (
            probe.client is not None
            or probe.headers
            or (probe.scheme, probe.host)
            != (
                "http",
                host,
            )
        ):
            continue  # the log names neither client, headers, scheme nor host: --host says
        target = probe.path + (f"?{probe.query}" if probe.query else "")
        logged = 404 if test.app_not_found else 200
        lines.append(f'127.0.0.1 - - [07/Dec/2026:10:00:00 +0000] "{probe.method} {target} '
                     f'HTTP/1.1" {logged} 3 "-" "curl/8"')  # fmt: skip
        if not test.passes:
            decision = probe.resolve(ruleset)
            if decision.passes:
                decision = probe.resolve_not_found(ruleset)
            assert decision.rule is not None
            name = decision.rule.short_name
            expected[name] = expected.get(name, 0) + 1
    log = folder / "access.log"
    log.write_text("\n".join(lines) + "\n")
    status, out, err = cells.run_cli("replay", str(path), "--log", str(log), "--json",
                                     "--host", host, "--scheme", "http")  # fmt: skip
    assert status == 0, err
    counted = {use["rule"]: use["requests"] for use in json.loads(out)["rules"]}
    assert expected and all(counted.get(name) == n for name, n in expected.items()), (
        expected, counted)  # fmt: skip


def _answer_of(ruleset: RuleSet, test: Expectation) -> tuple[int | None, str | None]:
    decision = test.probe.resolve(ruleset)
    if test.app_not_found and decision.passes and decision.would is None:
        decision = test.probe.resolve_not_found(ruleset)
    return (None, None) if decision.passes else (decision.status, decision.location)


def diff_cell(kind: Kind, support: Support, folder: Path) -> None:
    assert isinstance(support, Works)
    old = cells.write_example(kind, folder, kind.example_for(Surface.DIFF))
    ruleset = RuleSet.from_file(old)
    removed = {rule.index: rule.short_name for rule in ruleset.rules if uses(kind, rule)}
    document = yaml.safe_load(old.read_text())
    document["rules"] = [r for i, r in enumerate(document["rules"]) if i not in removed]
    new = folder / "new.yaml"
    new.write_text(yaml.safe_dump(document, sort_keys=False))
    without = RuleSet.from_file(new)
    tests = cells.expectations(old)
    changed = {
        f"{t.probe.method} {t.probe.scheme}://{t.probe.host}{t.probe.path}"
        + (f"?{t.probe.query}" if t.probe.query else "")
        for t in tests
        if _answer_of(ruleset, t) != _answer_of(without, t)
    }
    assert changed, "removing the kind's rule changes no answer of its tests"
    status, out, err = cells.run_cli("diff", str(old), str(new), "--json")
    assert status == 1, err
    named = {f"{c['method']} {c['url']}": c for c in json.loads(out)["changed"]}
    for line in changed:
        assert line in named, (line, sorted(named))
        assert named[line]["old"]["rule"] in removed.values(), named[line]
    status, out, err = cells.run_cli("diff", str(old), str(old))
    assert status == 0, (out, err)
    assert out.strip().endswith("0 requests change answer, 0 logged hits"), out


def metrics_cell(kind: Kind, support: Support, folder: Path) -> None:
    from prometheus_client import CollectorRegistry

    from redirectware.metrics import Metrics

    assert isinstance(support, Works)
    path = cells.write_example(kind, folder)
    registry = CollectorRegistry()
    tests = cells.expectations(path)
    answers = cells.through_asgi(path, tests, metrics=Metrics(registry))
    ruleset = RuleSet.from_file(path)
    for test, answer in zip(tests, answers, strict=True):
        cells.judge(test, answer)
    wanted: dict[tuple[str, str], int] = {}
    for test, answer in zip(tests, answers, strict=True):
        if test.passes:
            continue
        decision = test.probe.resolve(ruleset)
        if decision.passes:
            decision = test.probe.resolve_not_found(ruleset)
        assert decision.rule is not None
        key = (decision.rule.short_name, str(answer.status))
        wanted[key] = wanted.get(key, 0) + 1
    for (rule, status), count in wanted.items():
        labels = {"rule": rule, "status": status}
        got = registry.get_sample_value("redirectware_answers_total", labels)
        assert got == count, (labels, got)


def _keep_batch(into: list[typing.Any], batch: typing.Any, paths: typing.Any) -> None:
    into.append(batch)


def hit_counts_cell(kind: Kind, support: Support, folder: Path) -> None:
    from redirectware.counting import HitBatch, HitCounts

    assert isinstance(support, Works)
    path = cells.write_example(kind, folder)
    tests = cells.expectations(path)
    ruleset = RuleSet.from_file(path)
    wanted: dict[tuple[str, ...], int] = {}
    for test in tests:
        if test.passes:
            continue
        decision = test.probe.resolve(ruleset)
        if decision.passes:
            decision = test.probe.resolve_not_found(ruleset)
        # Every rule on the way to the answer: each hop of a collapsed chain answered too.
        rules: list[typing.Any] = [hop.rule for hop in decision.hops] or [decision.rule]
        for rule in rules:
            assert rule is not None
            wanted[("rule", rule.short_name)] = wanted.get(("rule", rule.short_name), 0) + 1
    assert wanted
    # The same counts through the ASGI and the WSGI middleware.
    for through in (cells.through_asgi, cells.through_wsgi):
        flushed: list[HitBatch] = []
        counts = HitCounts(sink=functools.partial(_keep_batch, flushed))
        answers = through(path, tests, metrics=counts)
        for test, answer in zip(tests, answers, strict=True):
            cells.judge(test, answer)
        counts.flush()
        assert len(flushed) == 1, (through.__name__, wanted, flushed)
        got = {key: count for key, (count, _) in flushed[0].items()}
        assert got == wanted, (through.__name__, got, wanted)
        # Counted once: a second flush has nothing new to hand over.
        counts.flush()
        assert len(flushed) == 1


def django_table_cell(kind: Kind, support: Support, folder: Path) -> None:
    from django.core.management import call_command

    from redirectware.django.models import Redirect

    assert isinstance(support, Works)
    document = yaml.safe_load(kind.example)
    table: dict[str, object] = {"name": "editors", "map": {"database": "default"}}
    option = {key: value for key, value in _first_rule_using(kind, document).items()
              if key in ("case_sensitive", "trailing_slash_match", "when")}  # fmt: skip
    table.update(option if kind.key in option else {})
    # First, so that the kind's own rules do not answer the row's URL before it; the
    # request comes as one of the example's passing requests does (scheme, host, client).
    document["rules"].insert(0, table)
    row_from = "/Matrix-Row" if kind.key == "case_sensitive" else "/matrix-row"
    probe_path = "/MATRIX-ROW" if kind.key == "case_sensitive" else "/matrix-row"
    if kind.key == "trailing_slash_match":
        probe_path += "/"
    passing = [test for test in document["tests"] if test["expect"] == "pass"][-1]
    url = passing["request"].split(" ", 1)[1]
    origin = "/".join(url.split("/", 3)[:3])
    document["tests"].append({
        **{key: value for key, value in passing.items() if key in ("client", "headers")},
        "request": f"GET {origin}{probe_path}",
        **({"app": "not_found"} if kind.key == "when" else {}),
        "expect": {"status": 302, "location": "/matrix-target"},
    })  # fmt: skip
    path = cells.write_example(kind, folder, yaml.safe_dump(document, sort_keys=False))
    call_command("migrate", "redirectware", verbosity=0)
    Redirect.objects.all().delete()
    Redirect.objects.create(from_path=row_from, to="/matrix-target", permanent=False)
    try:
        tests = cells.expectations(path)
        for test, answer in zip(tests, cells.through_django(path, tests), strict=True):
            cells.judge(test, answer)
    finally:
        Redirect.objects.all().delete()


def verify_cell(kind: Kind, support: Support, folder: Path) -> None:
    from tests.verify_sites import middleware_site

    assert isinstance(support, Works)
    path = cells.write_example(kind, folder, kind.example_for(Surface.VERIFY))
    with middleware_site(path, folder) as site:
        status, out, err = cells.run_cli("verify", str(path), site.url, "--json")
    assert status == 0, out + err
    found = json.loads(out)
    assert found["failed"] == 0 and found["checked"] > 0, found


def _first_rule_using(kind: Kind, document: dict[str, typing.Any]) -> dict[str, typing.Any]:
    rules: list[dict[str, typing.Any]] = document["rules"]
    return next((rule for rule in rules if kind.key in rule), rules[0])


CELLS: dict[Surface, Callable[[Kind, Support, Path], None]] = {
    **{surface: _adapter(surface) for surface in ADAPTERS},
    Surface.CHECK: check_cell,
    Surface.EXPLAIN: explain_cell,
    Surface.TESTS: expectations_cell,
    **{surface: list_export_cell(surface) for surface in ROUND_TRIP},
    **{surface: import_cell(surface) for surface in IMPORT_FILES},
    Surface.DJANGO_TABLE: django_table_cell,
    Surface.REPLAY: replay_cell,
    Surface.METRICS: metrics_cell,
    Surface.DIFF: diff_cell,
    Surface.HIT_COUNTS: hit_counts_cell,
}


#: The cells that start a real server (marked ``servers``), besides the edges.
SERVED: dict[Surface, Callable[[Kind, Support, Path], None]] = {Surface.VERIFY: verify_cell}


def test_every_surface_has_a_cell_function() -> None:
    assert set(CELLS) | set(EDGES) | set(SERVED) == set(Surface)


@pytest.mark.parametrize(
    ("kind", "surface"),
    [
        pytest.param(kind, surface, id=f"{kind.key}|{surface.value}")
        for kind in ENTRIES
        for surface in Surface
        if surface not in EDGES and surface not in SERVED
    ],
)
def test_cell(kind: Kind, surface: Surface, tmp_path: Path) -> None:
    CELLS[surface](kind, kind.support(surface), tmp_path)


@pytest.mark.servers
@pytest.mark.parametrize(
    ("kind", "surface"),
    [
        pytest.param(kind, surface, id=f"{kind.key}|{surface.value}")
        for kind in ENTRIES
        for surface in EDGES
    ],
)
def test_edge_cell(kind: Kind, surface: Surface, tmp_path: Path) -> None:
    from tests.edge_differential import prove
    from tests.edge_servers import apache, caddy, nginx

    servers = {Surface.EXPORT_NGINX: nginx, Surface.EXPORT_CADDY: caddy,
               Surface.EXPORT_APACHE: apache}  # fmt: skip
    path = cells.write_example(kind, tmp_path, kind.example_for(surface))
    support = kind.support(surface)
    if isinstance(support, Refuses):
        refused(kind, surface, tmp_path, path, support.reason)
        return
    assert isinstance(support, Works)
    edge = surface.value.split()[1]
    assert prove(path, edge, servers[surface], tmp_path) > 0


@pytest.mark.servers
@pytest.mark.parametrize(
    ("kind", "surface"),
    [
        pytest.param(kind, surface, id=f"{kind.key}|{surface.value}")
        for kind in ENTRIES
        for surface in SERVED
    ],
)
def test_served_cell(kind: Kind, surface: Surface, tmp_path: Path) -> None:
    SERVED[surface](kind, kind.support(surface), tmp_path)


@pytest.mark.servers
def test_verify_cell_fails_against_a_wrong_site(tmp_path: Path) -> None:
    """The verify cell can fail: the ``to`` kind's site serves the rule as temporary."""
    from redirectware.kinds import BY_KEY
    from tests.verify_sites import middleware_site

    kind = BY_KEY["to"]
    path = cells.write_example(kind, tmp_path, kind.example_for(Surface.VERIFY))
    served = tmp_path / "served.yaml"
    served.write_text(path.read_text().replace("permanent: true", "permanent: false"))
    with middleware_site(served, tmp_path) as site:
        status, out, err = cells.run_cli("verify", str(path), site.url, "--json")
    assert status == 1, out + err
    found = json.loads(out)
    got = {(f["check"], f["request"].split()[0]) for f in found["failures"]}
    assert ("status", "GET") in got and ("status", "POST") in got, found


def test_the_reference_page_is_current() -> None:
    from redirectware.kinds.reference import render

    page = Path(__file__).parent.parent / "docs" / "kinds.md"
    assert page.read_text() == render(), (
        "docs/kinds.md is stale: python -m redirectware.kinds.reference > docs/kinds.md"
    )
