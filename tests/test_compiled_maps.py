"""CSV maps compiled into a shared memory-mapped file answer exactly as maps in memory do.

Every test builds the same document twice, once with ``settings.map_cache: false`` (rows in
memory, as before) and once compiled, and compares what the engine answers; the rest pin
where the compiled file goes, that a stale or corrupt one is never trusted, and that a map
that cannot be written anywhere still serves, from memory, with one warning.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from redirectware import RuleError, RuleSet
from redirectware.cli import main
from redirectware.engine.compiled_rows import CompiledRows
from redirectware.engine.model import MapAction

#: Rows of every kind a CSV map holds: plain, with a query, per-row status and permanent,
#: escaped and non-ASCII paths, absolute targets, targets with a query of their own.
ROWS = [
    ("/old/a", "/new/a", "", ""),
    ("/old/b", "https://elsewhere.example/b", "", ""),
    ("/page.php?id=3", "/pages/three", "", ""),
    ("/page.php", "/pages", "", ""),
    ("/item.php?id=7", "/items/seven", "302", ""),
    ("/caf%C3%A9", "/cafe", "", "false"),
    ("/café-2", "/cafe-2", "", ""),
    ("/search", "/find?src=old", "", ""),
    ("/gone", "/", "308", ""),
]
REQUESTS = [
    ("GET", "/old/a"),
    ("POST", "/old/a"),
    ("HEAD", "/old/b?x=1"),
    ("GET", "/page.php?id=3"),
    ("GET", "/page.php?id=4"),
    ("GET", "/page.php"),
    ("PUT", "/item.php?id=7"),
    ("GET", "/item.php"),
    ("GET", "/caf%c3%a9"),
    ("GET", "/caf%C3%A9"),
    ("GET", "/caf%C3%A9-2"),
    ("GET", "/search?q=1"),
    ("DELETE", "/gone"),
    ("GET", "/not-there"),
    ("GET", "/old"),
]


def write_map(folder: Path, rows: list[tuple[str, str, str, str]] = ROWS) -> Path:
    csv = folder / "legacy.csv"
    lines = ["from,to,status,permanent"] + [",".join(row) for row in rows]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return csv


def document(cache: Any, rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    extra = rules or []
    return {
        "version": 1,
        "settings": {"map_cache": cache},
        "rules": [*extra, {"name": "legacy", "map": "legacy.csv", "permanent": True}],
    }


def load(folder: Path, cache: Any, rules: list[dict[str, Any]] | None = None) -> RuleSet:
    path = folder / "redirects.yaml"
    import yaml

    path.write_text(yaml.safe_dump(document(cache, rules)), encoding="utf-8")
    return RuleSet.from_file(path)


def rows_of(ruleset: RuleSet) -> Any:
    (action,) = [r.action for r in ruleset.rules if isinstance(r.action, MapAction)]
    return action.entries


def answers(ruleset: RuleSet) -> list[tuple[Any, ...]]:
    out = []
    for method, target in REQUESTS:
        path, _, query = target.partition("?")
        decision = ruleset.resolve(method, "http", "example.com", path, query, {}, "192.0.2.1")
        out.append((method, target, decision.kind, decision.status, decision.headers))
    return out


def test_compiled_answers_equal_in_memory_answers(tmp_path: Path) -> None:
    write_map(tmp_path)
    in_memory = load(tmp_path, False)
    compiled = load(tmp_path, ".maps")
    assert not isinstance(rows_of(in_memory), CompiledRows)
    assert isinstance(rows_of(compiled), CompiledRows)
    expected = answers(in_memory)
    assert answers(compiled) == expected
    # The answers are the map's, not empty passes: most requests are redirected.
    assert sum(kind == "redirect" for _, _, kind, _, _ in expected) == 12


def test_the_compiled_file_goes_where_the_setting_says_and_is_reused(tmp_path: Path) -> None:
    write_map(tmp_path)
    first = rows_of(load(tmp_path, "cache/maps"))
    assert first.path.parent == tmp_path / "cache" / "maps"
    made = (first.path / "data.mdb").stat().st_mtime_ns
    second = rows_of(load(tmp_path, "cache/maps"))
    assert second.path == first.path
    assert (second.path / "data.mdb").stat().st_mtime_ns == made  # opened, not compiled again
    assert len(second) == len(ROWS)


def test_by_default_it_goes_beside_the_csv(tmp_path: Path) -> None:
    write_map(tmp_path)
    rows = rows_of(load(tmp_path, None))
    assert rows.path.parent == tmp_path / ".redirectware"


def test_an_edited_csv_is_compiled_anew_never_matched_against_the_old_file(
    tmp_path: Path,
) -> None:
    csv = write_map(tmp_path)
    old = rows_of(load(tmp_path, ".maps"))
    csv.write_text(csv.read_text().replace("/new/a", "/newer/a"), encoding="utf-8")
    new_rows = rows_of(load(tmp_path, ".maps"))
    assert new_rows.path != old.path
    assert new_rows["/old/a"].target == "/newer/a"


def compile_elsewhere(folder: Path, cache: str) -> Path:
    """Compile the folder's map in another process, as a deploy step or an earlier run
    would, and return the compiled file. (This process must not have it open: a file
    changed under an open map is the page cache's business, not a case to test.)"""
    import yaml

    path = folder / "redirects.yaml"
    path.write_text(yaml.safe_dump(document(cache)), encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "redirectware", "compile", str(path)],
        check=True,
        capture_output=True,
    )
    (compiled,) = (folder / cache).glob("legacy.csv.*.lmdb")
    return compiled


def test_a_corrupt_file_is_rebuilt_not_trusted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_map(tmp_path)
    path = compile_elsewhere(tmp_path, ".maps")
    (path / "data.mdb").write_bytes(b"not an lmdb file at all" * 100)
    with caplog.at_level(logging.WARNING, logger="redirectware"):
        rebuilt = rows_of(load(tmp_path, ".maps"))
    assert rebuilt["/old/a"].target == "/new/a"
    assert any("compiling it again" in r.getMessage() for r in caplog.records)


def test_a_file_for_other_rows_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_map(tmp_path)
    path = compile_elsewhere(tmp_path, ".maps")
    other = tmp_path / "other"
    other.mkdir()
    write_map(other, [("/x", "/y", "", "")])
    wrong = compile_elsewhere(other, ".maps")
    # The other map's file, under this map's name: its digest gives it away.
    for name in os.listdir(path):
        (path / name).write_bytes((wrong / name).read_bytes())
    with caplog.at_level(logging.WARNING, logger="redirectware"):
        rows = rows_of(load(tmp_path, ".maps"))
    assert "/old/a" in rows
    assert any("does not match its CSV" in r.getMessage() for r in caplog.records)


def test_a_cache_that_cannot_be_written_serves_from_memory_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_map(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="redirectware"):
        ruleset = load(tmp_path, "not-a-folder/maps")
        load(tmp_path, "not-a-folder/maps")
    assert not isinstance(rows_of(ruleset), CompiledRows)
    assert answers(ruleset) == answers(load(tmp_path, False))
    warnings = [r for r in caplog.records if "loaded in memory instead" in r.getMessage()]
    assert len(warnings) == 1


def test_row_errors_are_the_same_and_nothing_is_written(tmp_path: Path) -> None:
    write_map(tmp_path, [("/a", "/b", "", ""), ("/a", "/c", "", "")])
    with pytest.raises(RuleError) as compiled_error:
        load(tmp_path, ".maps")
    with pytest.raises(RuleError) as memory_error:
        load(tmp_path, False)
    assert str(compiled_error.value) == str(memory_error.value)
    assert "legacy.csv:3" in str(compiled_error.value)
    assert not any((tmp_path / ".maps").glob("*.lmdb"))


@pytest.mark.parametrize(
    "rules",
    [
        [{"from": "/new/a", "to": "/old/a"}],  # a literal rule back into the map
        [],  # inside the map itself (rows below)
    ],
    ids=["rule-and-row", "rows"],
)
def test_loops_through_a_compiled_map_are_load_errors(
    tmp_path: Path, rules: list[dict[str, Any]]
) -> None:
    rows = [*ROWS, ("/new/a", "/old/a", "", "")] if not rules else ROWS
    write_map(tmp_path, rows)
    with pytest.raises(RuleError, match=r"redirect loop: /(old|new)/a -> /(new|old)/a"):
        load(tmp_path, ".maps", rules)
    # The same document without the loop loads, from its compiled file.
    write_map(tmp_path)
    assert isinstance(rows_of(load(tmp_path, ".maps")), CompiledRows)


def test_compile_command_compiles_ahead_of_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_map(tmp_path)
    path = tmp_path / "redirects.yaml"
    import yaml

    path.write_text(yaml.safe_dump(document(".maps")), encoding="utf-8")
    assert main(["compile", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"legacy.csv: {len(ROWS)} rows -> {tmp_path / '.maps'}" in out
    assert list((tmp_path / ".maps").glob("legacy.csv.*.lmdb"))


def test_a_forked_worker_reads_the_same_rows(tmp_path: Path) -> None:
    write_map(tmp_path)
    ruleset = load(tmp_path, ".maps")
    assert ruleset.resolve("GET", "http", "example.com", "/old/a").status == 301
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what a gunicorn worker forked after loading does
        try:
            decision = ruleset.resolve("GET", "http", "example.com", "/old/b")
            os.write(write, (decision.location or "none").encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 200) == b"https://elsewhere.example/b"


def _as_csv(document: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``document`` with each inline map written out as a CSV map (compiled when loaded)."""
    rules = []
    for number, rule in enumerate(document["rules"]):
        if isinstance(rule.get("map"), list):
            name = f"map{number}.csv"
            with (folder / name).open("w", encoding="utf-8") as out:
                out.write("from,to,status,permanent\n")
                for row in rule["map"]:
                    status, permanent = row.get("status", ""), row.get("permanent", "")
                    out.write(f"{row['from']},{row.get('to', '')},{status},{permanent}\n")
            rule = {**rule, "map": str(folder / name)}
        rules.append(rule)
    return {**document, "rules": rules}


def _decisions(ruleset: RuleSet, requests: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    out = []
    for method, scheme, host, path, query, headers, client in requests:
        decision = ruleset.resolve(method, scheme, host, path, query, headers, client)
        out.append((decision.kind, decision.status, decision.headers, decision.body))
    return out


def test_the_shared_table_answers_the_same_from_compiled_maps(tmp_path: Path) -> None:
    from tests.cases import CASES
    from tests.test_cases import _split

    with_maps = [case for case in CASES if any("map" in rule for rule in case.rules)]
    assert len(with_maps) >= 4
    for case in with_maps:
        scheme, host, path, query, headers = _split(case)
        request = [(case.method, scheme, host, path, query, headers, "127.0.0.1")]
        compiled = RuleSet.from_dict(_as_csv(case.document, tmp_path))
        assert isinstance(rows_of_any(compiled), CompiledRows), case.id
        assert _decisions(compiled, request) == _decisions(
            RuleSet.from_dict(case.document), request
        ), case.id


def rows_of_any(ruleset: RuleSet) -> Any:
    return next(r.action.entries for r in ruleset.rules if isinstance(r.action, MapAction))


def test_the_hostile_corpus_gets_the_same_answers_from_compiled_maps(tmp_path: Path) -> None:
    from tests.hostile import DOCUMENTS, HOSTILE

    requests = []
    for case in HOSTILE:
        path, _, query = case.target.partition("?")
        hosts = case.host_headers
        host = ",".join(hosts) if hosts else None
        headers = case.header_map()
        requests.append((case.method, case.scheme, host, path, query, headers, case.client))
    for name, document in DOCUMENTS.items():
        if not any(isinstance(rule.get("map"), list) for rule in document["rules"]):
            continue
        compiled = RuleSet.from_dict(_as_csv(document, tmp_path))
        assert isinstance(rows_of_any(compiled), CompiledRows)
        assert _decisions(compiled, requests) == _decisions(
            RuleSet.from_dict(document), requests
        ), name


# Damage, full disks, superseded files: what the server tests in tests/test_map_faults.py
# show under real workers, here in one process where each step can be looked at.


def _junk_second_half(data: Path) -> None:
    size = data.stat().st_size
    with data.open("r+b") as handle:
        handle.seek(size // 2)
        handle.write(os.urandom(size - size // 2))


def test_a_truncated_file_is_found_by_its_seal_before_it_is_mapped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_map(tmp_path, BIG)
    path = compile_elsewhere(tmp_path, ".maps")
    data = path / "data.mdb"
    made = data.stat().st_mode
    assert made & 0o222 == 0, "written once, read-only"
    os.truncate(data, data.stat().st_size // 2)
    with caplog.at_level(logging.WARNING, logger="redirectware"):
        rows = rows_of(load(tmp_path, ".maps"))
    assert rows["/m/4321"].target == "/n/4321"
    (message,) = [r.getMessage() for r in caplog.records]
    assert "is damaged (data.mdb has" in message and "bytes, " in message


def test_a_file_junked_under_a_running_process_falls_back_to_the_csv_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_map(tmp_path, BIG)
    ruleset = load(tmp_path, ".maps")
    rows = rows_of(ruleset)
    assert isinstance(rows, CompiledRows)
    _junk_second_half(rows.path / "data.mdb")
    with caplog.at_level(logging.ERROR, logger="redirectware"):
        for number in range(0, len(BIG), 37):
            decision = ruleset.resolve("GET", "http", "example.com", f"/m/{number}")
            assert decision.location == f"http://example.com/n/{number}"
        assert ruleset.resolve("GET", "http", "example.com", "/m/none").kind == "pass"
    (message,) = [r.getMessage() for r in caplog.records]
    assert "its rows are served from the CSV in memory" in message
    assert not rows.path.exists(), "the damaged file is removed, for the next load to compile"
    assert len(list(rows)) == len(BIG)


def test_a_failed_file_whose_csv_changed_matches_nothing_rather_than_other_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    csv = write_map(tmp_path, BIG)
    ruleset = load(tmp_path, ".maps")
    rows = rows_of(ruleset)
    csv.write_text("from,to\n/m/1,/elsewhere\n", encoding="utf-8")  # not yet reloaded
    _junk_second_half(rows.path / "data.mdb")
    with caplog.at_level(logging.ERROR, logger="redirectware"):
        assert ruleset.resolve("GET", "http", "example.com", "/m/1").kind == "pass"
    (message,) = [r.getMessage() for r in caplog.records]
    assert "its CSV no longer holds the compiled rows" in message


def test_an_lmdb_error_while_compiling_loads_in_memory_and_leaves_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lmdb

    from redirectware.document import compiled_maps

    real_fill = compiled_maps._fill

    def full_disk(path: Path, *args: Any) -> None:
        real_fill(path, *args)  # the file is half there when the disk fills up
        raise lmdb.DiskError(f"{path}: No space left on device")

    monkeypatch.setattr(compiled_maps, "_fill", full_disk)
    write_map(tmp_path)
    with caplog.at_level(logging.WARNING, logger="redirectware"):
        ruleset = load(tmp_path, "cache")
    assert not isinstance(rows_of(ruleset), CompiledRows)
    assert answers(ruleset) == answers(load(tmp_path, False))
    (message,) = [r.getMessage() for r in caplog.records]
    assert "DiskError" in message and "No space left on device" in message
    assert list((tmp_path / "cache").iterdir()) == []


def test_an_unreadable_csv_is_a_rule_error_not_an_os_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root, no mode makes a file unreadable: the refusal is simulated here, and real
    # (workers run as nobody) in tests/test_map_faults.py.
    write_map(tmp_path)
    real_open = Path.open

    def refused(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "legacy.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refused)
    with pytest.raises(RuleError, match=r"cannot read map file .*Permission denied"):
        load(tmp_path, ".maps")


def test_superseded_files_are_closed_and_pruned_but_one(tmp_path: Path) -> None:
    from redirectware.engine.compiled_rows import open_environments

    write_map(tmp_path)
    # Another CSV of the same name sharing the cache folder: its file is not ours to prune.
    other = tmp_path / "other"
    other.mkdir()
    write_map(other, [("/x", "/y", "", "")])
    settings = {"map_cache": str(tmp_path / ".maps")}
    rules = [{"name": "o", "map": str(other / "legacy.csv")}]
    RuleSet.from_dict({"version": 1, "settings": settings, "rules": rules})
    baseline = open_environments()
    for version in range(5):
        write_map(tmp_path, [("/old/a", f"/v{version}/a", "", ""), *ROWS[1:]])
        ruleset = load(tmp_path, ".maps")
        assert rows_of(ruleset)["/old/a"].target == f"/v{version}/a"
        del ruleset
    assert open_environments() <= baseline + 1
    names = list((tmp_path / ".maps").glob("legacy.csv.*.lmdb"))
    # The current file, the one before it, and the other CSV's.
    assert len(names) == 3, names


def test_abandoned_scratch_folders_are_removed_at_the_next_compile(tmp_path: Path) -> None:
    write_map(tmp_path)
    cache = tmp_path / ".maps"
    abandoned = cache / ".legacy.csv.0123456789abcdef01234567.lmdb.killed"
    recent = cache / ".legacy.csv.0123456789abcdef01234567.lmdb.running"
    for folder in (abandoned, recent):
        folder.mkdir(parents=True)
        (folder / "data.mdb").write_bytes(b"half a file")
    two_hours_ago = time.time() - 7200
    os.utime(abandoned, (two_hours_ago, two_hours_ago))
    load(tmp_path, ".maps")
    assert not abandoned.exists()
    assert recent.exists(), "a compile under way in another process is left alone"


BIG = [(f"/m/{number}", f"/n/{number}", "", "") for number in range(20_000)]
