"""The strict reading of boolean settings that Flask and Django share."""

from __future__ import annotations

import pytest

from redirectware.settings_values import SettingValueError, parse_bool


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True), (False, False), (1, True), (0, False),
        ("true", True), ("TRUE", True), ("True", True), ("1", True), ("yes", True), ("Yes", True),
        ("false", False), ("FALSE", False), ("False", False), ("0", False), ("no", False),
        ("NO", False), (" no\n", False),
    ],
)  # fmt: skip
def test_accepted_values(value: object, expected: bool) -> None:
    assert parse_bool("KEY", value) is expected


@pytest.mark.parametrize("value", ["maybe", "", "on", "off", "y", "2", 2, -1, 1.0, None, [True]])
def test_anything_else_is_an_error_naming_key_and_value(value: object) -> None:
    with pytest.raises(SettingValueError) as raised:
        parse_bool("REDIRECTWARE_RELOAD", value)
    assert str(raised.value) == (
        "REDIRECTWARE_RELOAD must be true or false (one of true/false/1/0/yes/no, any case), "
        f"not {value!r}"
    )
    assert isinstance(raised.value, ValueError)
