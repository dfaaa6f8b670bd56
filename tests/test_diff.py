"""``redirectware diff``: the requests whose answer a change of rules changes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from redirectware import RuleSet
from redirectware.cli.check import check_file
from redirectware.tools.diff import Differ, Request, diff
from tests.matrix_cells import run_cli

OLD = """\
settings:
  allowed_hosts: [example.com]
rules:
  - name: blog
    from: /blog/{slug}
    to: /news/{slug}
    permanent: true
  - name: about
    from: /about-us
    to: /about
tests:
  - request: GET https://example.com/blog/x
    expect: {status: 301, location: /news/x}
"""

#: blog moves to /articles, about goes, shop is new and gone.
NEW = """\
settings:
  allowed_hosts: [example.com]
rules:
  - name: blog
    from: /blog/{slug}
    to: /articles/{slug}
    permanent: true
  - name: shop
    from: /shop
    gone: true
tests:
  - request: GET https://example.com/blog/x
    expect: {status: 301, location: /articles/x}
"""


def _line(method: str, path: str, status: int) -> str:
    return (f'1.2.3.4 - - [07/Dec/2026:10:00:00 +0000] "{method} {path} HTTP/1.1" {status} 3 '
            '"-" "curl/8"\n')  # fmt: skip


@pytest.fixture
def docs(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(OLD)
    new.write_text(NEW)
    return old, new


def test_nothing_changes_exits_0(docs: tuple[Path, Path]) -> None:
    old, _ = docs
    status, out, err = run_cli("diff", str(old), str(old))
    assert (status, err) == (0, "")
    assert out.strip() == "0 requests change answer, 0 logged hits"


def test_every_kind_of_change_is_named_with_both_rules(docs: tuple[Path, Path]) -> None:
    old, new = docs
    status, out, _ = run_cli("diff", str(old), str(new), "--json")
    assert status == 1
    changed = {(c["method"], c["url"]): c for c in json.loads(out)["changed"]}
    # a Location that moves, for GET (301) and for a method with a body (308)
    moved = changed["GET", "https://example.com/blog/x"]
    assert moved["old"] == {"status": 301, "location": "https://example.com/news/x",
                            "rule": "blog"}  # fmt: skip
    assert moved["new"]["location"] == "https://example.com/articles/x"
    assert changed["POST", "https://example.com/blog/x"]["new"]["status"] == 308
    # a redirect that becomes a pass
    about = changed["GET", "https://example.com/about-us"]
    assert about["new"] == {"status": None, "location": None, "rule": None}
    assert about["old"]["rule"] == "about"
    # a pass that becomes a gone
    shop = changed["GET", "https://example.com/shop"]
    assert shop["old"]["status"] is None and shop["new"]["status"] == 410
    assert shop["new"]["rule"] == "shop"


def test_text_groups_by_rule_and_sums_up(docs: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = docs
    log = tmp_path / "access.log"
    log.write_text(_line("GET", "/about-us", 302) * 5 + _line("GET", "/blog/a", 301) * 2
                   + _line("POST", "/blog/a", 308) + _line("GET", "/home", 200) * 9)  # fmt: skip
    status, out, _ = run_cli("diff", str(old), str(new), "--log", str(log))
    assert status == 1
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    # about has the most logged hits (5), then blog (3), then shop (none)
    assert [h.split(":")[0] for h in headings[:3]] == ["about", "blog", "shop"]
    assert headings[0] == "about: 4 requests, 5 logged hits"
    assert "  GET https://example.com/about-us: 302 https://example.com/about [about, " in out
    assert f"{old}:8] -> pass through  (5 hits)" in out
    assert f"-> 301 https://example.com/articles/a [blog, {new}:4]  (2 hits)" in out
    assert "POST https://example.com/blog/a: 308" in out and "(1 hit)" in out
    assert "/home" not in out
    assert headings[-1].endswith("requests change answer, 8 logged hits")


def test_logs_gz_and_several(docs: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = docs
    plain, packed = tmp_path / "a.log", tmp_path / "b.log.gz"
    plain.write_text(_line("GET", "/blog/a", 301) * 3)
    packed.write_bytes(gzip.compress(_line("GET", "/blog/a", 301).encode() * 4))
    status, out, _ = run_cli("diff", str(old), str(new), "--json",
                             "--log", str(plain), "--log", str(packed))  # fmt: skip
    assert status == 1
    report = json.loads(out)
    hits = {(c["method"], c["url"]): c["hits"] for c in report["changed"]}
    assert hits["GET", "https://example.com/blog/a"] == 7
    assert hits["POST", "https://example.com/blog/a"] == 0
    assert report["summary"]["hits"] == 7 and report["summary"]["logged_lines"] == 7


def test_a_logged_404_meets_a_when_not_found_rule(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text("settings: {allowed_hosts: [example.com]}\nrules: []\n")
    new.write_text("settings: {allowed_hosts: [example.com]}\nrules:\n"
                   "  - {from: /missing, to: /found, when: not_found}\n")  # fmt: skip
    log = tmp_path / "access.log"
    log.write_text(_line("GET", "/missing", 404) * 2 + _line("GET", "/missing", 200))
    status, out, _ = run_cli("diff", str(old), str(new), "--log", str(log), "--json")
    assert status == 1
    hits = {(c["method"], c["url"], c.get("app_not_found", False)): c["hits"]
            for c in json.loads(out)["changed"]}  # fmt: skip
    assert hits["GET", "https://example.com/missing", True] == 2
    assert ("GET", "https://example.com/missing", False) not in hits


def test_an_invalid_document_exits_2_with_checks_message(docs: tuple[Path, Path],
                                                        tmp_path: Path) -> None:  # fmt: skip
    old, _ = docs
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - from: /a\n    to: /b\n    stauts: 301\n")
    status, out, err = run_cli("diff", str(old), str(bad))
    assert status == 2 and out == ""
    assert check_file(bad).reports[0].text in err


def test_usage_errors_exit_2(docs: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = docs
    assert run_cli("diff", str(old))[0] == 2
    status, _, err = run_cli("diff", str(old), str(new), "--log", str(tmp_path / "none.log"))
    assert status == 2 and "no such log file" in err


def test_the_table_of_logged_changes_is_bounded() -> None:
    old = RuleSet.from_dict({"rules": [{"from": "/{p}", "to": "https://example.org/{p}"}]})
    new = RuleSet.from_dict({"rules": []})
    differ = Differ(old, new, max_groups=100)
    for n in range(1000):
        differ.add_logged(Request("GET", "https", "example.com", f"/p{n}"), 1 + n % 7)
        assert len(differ._logged) <= 101
    report = differ.report()
    total = sum(1 + n % 7 for n in range(1000))
    assert report.dropped > 0 and report.hits + report.dropped == total
    # the heaviest requests survive a prune: those kept weigh more than the average
    kept = [change.hits for change in report.changes if change.hits]
    assert sum(kept) / len(kept) > total / 1000 + 1


def test_a_rule_that_only_changes_name_changes_no_answer() -> None:
    old = RuleSet.from_dict({"rules": [{"name": "a", "from": "/x", "to": "/y"}]})
    new = RuleSet.from_dict({"rules": [{"name": "b", "from": "/x", "to": "/y"}]})
    assert diff(old, new).changes == []
