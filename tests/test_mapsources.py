"""Row sources of ``map`` rules (redirectware.document.mapsources), without Django: what a
document that names one meets, and what a registered provider's rows become."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from redirectware import RuleError, RuleSet
from redirectware.document import mapsources
from redirectware.document.mapsources import (
    ProvidedRows,
    register_map_source,
    unregister_map_source,
)
from redirectware.engine.model import MapAction, RowSource

KIND = "testrows"


def doc(value: Any, **rule: Any) -> dict[str, Any]:
    """A document with one map rule whose map is ``value``."""
    return {"rules": [{"name": "rows", "map": value, **rule}]}


@pytest.fixture
def provider() -> Iterator[list[tuple[str, str | None]]]:
    """A registered source of kind ``testrows``; the list records each call's (name, host)."""
    calls: list[tuple[str, str | None]] = []

    def rows(name: str, host: str | None) -> ProvidedRows:
        calls.append((name, host))
        return ProvidedRows(
            f"{KIND}:{name}",
            [("/a", "/b", None, None, 7), ("/c", "/d", None, 307, 8)],
            version=42,
        )

    register_map_source(KIND, rows, needs="the tests")
    yield calls
    unregister_map_source(KIND)


def test_rows_come_from_the_provider_with_the_rules_host(
    provider: list[tuple[str, str | None]],
) -> None:
    ruleset = RuleSet.from_dict(doc({KIND: "main"}, host="Shop.Example.com", permanent=True))
    assert provider == [("main", "shop.example.com")]
    action = ruleset.rules[0].action
    assert isinstance(action, MapAction)
    assert action.provided_by == RowSource(KIND, "main", 42)
    assert ruleset.document.files == ()  # not a file to watch
    a = ruleset.resolve("GET", "http", "shop.example.com", "/a")
    c = ruleset.resolve("POST", "http", "shop.example.com", "/c")
    assert (a.status, a.location) == (301, "http://shop.example.com/b")
    assert (c.status, c.location) == (307, "http://shop.example.com/d")


def test_plain_rows_take_the_bulk_path_with_their_own_numbers() -> None:
    def plain(name: str, host: str | None) -> ProvidedRows:
        return ProvidedRows(
            "plain:x", [("/a", "/a2", None, None, 11), ("/b", "/b2", None, None, 12)]
        )

    register_map_source("plain", plain, needs="the tests")
    try:
        ruleset = RuleSet.from_dict(doc({"plain": "x"}))
    finally:
        unregister_map_source("plain")
    action = ruleset.rules[0].action
    assert isinstance(action, MapAction)
    assert [entry.line for entry in action.entries.values()] == [11, 12]


def test_a_bad_provided_row_names_the_label_and_number() -> None:
    def bad(name: str, host: str | None) -> ProvidedRows:
        return ProvidedRows("bad:x", [("/a", "/b", None, None, 3), ("oops", "/c", None, None, 9)])

    register_map_source("bad", bad, needs="the tests")
    try:
        with pytest.raises(RuleError) as caught:
            RuleSet.from_dict(doc({"bad": "x"}))
    finally:
        unregister_map_source("bad")
    assert str(caught.value) == (
        "rules[0] 'rows': map: bad:x:9: from must be a path starting with a single '/', got 'oops'"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            {"database": "default"},
            "rules[0] 'rows': map: {database: 'default'}: rows from a database are read only "
            "under Django, with 'redirectware.django' in INSTALLED_APPS (the name is a database "
            "alias of settings.DATABASES); nothing here can read them",
            id="database-outside-django",
        ),
        pytest.param(
            {"nosuch": "x"},
            "rules[0] 'rows': map: unknown row source 'nosuch': a map is a CSV file path, a list "
            "of {from, to} rows, or {database: ALIAS}",
            id="unknown-kind",
        ),
        pytest.param(
            {"database": "a", "other": "b"},
            "rules[0] 'rows': map: must name one row source, like {database: default}; got "
            "{'database': 'a', 'other': 'b'}",
            id="two-sources",
        ),
        pytest.param(
            {"database": ""},
            "rules[0] 'rows': map: a row source is {KIND: NAME} with a name, got {'database': ''}",
            id="no-name",
        ),
        pytest.param(
            42,
            "rules[0] 'rows': map: must be a CSV file path, a list of {from, to} or "
            "{database: ALIAS}, got 42",
            id="neither",
        ),
    ],
)
def test_a_source_nothing_reads_is_a_load_error(
    value: Any, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As outside Django: in this test process a Django test may have registered "database".
    monkeypatch.delitem(mapsources._registry, "database", raising=False)
    with pytest.raises(RuleError) as caught:
        RuleSet.from_dict(doc(value))
    assert str(caught.value) == message
