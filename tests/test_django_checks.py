"""``manage.py check`` for redirectware: exact ids for each problem, and none when all is well."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.django_site import configure

configure()

from django.core.checks import run_checks  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.base import SystemCheckError  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from redirectware import RuleError, RuleSet  # noqa: E402
from redirectware.django.conf import rule_holder  # noqa: E402

GOOD = {"version": 1, "rules": [{"name": "https", "https": True, "permanent": True}]}
BAD_YAML = """\
version: 1
rules:
  - name: api-v1
    from: /api/v1/{rest:path}
    to: /api/v2/{rets}
"""
OURS = "redirectware.django.RedirectMiddleware"
SECURITY = "django.middleware.security.SecurityMiddleware"
COMMON = "django.middleware.common.CommonMiddleware"
UNSET = object()


def ids(**overrides: Any) -> list[str]:
    """The redirectware check ids that ``run_checks`` reports under these settings."""
    with override_settings(**overrides):
        return sorted(m.id for m in run_checks() if m.id and m.id.startswith("redirectware."))


def test_valid_setup_is_silent() -> None:
    assert ids(REDIRECTWARE=GOOD) == []


def test_invalid_document_is_e001_naming_file_line_and_rule(tmp_path: Path) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text(BAD_YAML, encoding="utf-8")
    with override_settings(REDIRECTWARE=path):
        [message] = [m for m in run_checks() if m.id == "redirectware.E001"]
        assert message.msg.startswith(f"{path}:5: rules[0] 'api-v1': to: ")
        assert "{rets}" in message.msg
        # manage.py check fails with it, as it would in CI or before runserver.
        with pytest.raises(SystemCheckError, match=r"redirectware\.E001"):
            call_command("check")
        # And the middleware refuses to start with the same RuleError.
        with pytest.raises(RuleError, match="rets"):
            Client().get("/")


def test_missing_file_is_e001(tmp_path: Path) -> None:
    assert ids(REDIRECTWARE=tmp_path / "nope.yaml") == ["redirectware.E001"]


def test_missing_setting_is_e002() -> None:
    with override_settings():
        from django.conf import settings

        del settings.REDIRECTWARE
        assert [m.id for m in run_checks() if m.id == "redirectware.E002"] == ["redirectware.E002"]
        with pytest.raises(ImproperlyConfigured, match=r"redirectware\.E002"):
            Client().get("/")


@pytest.mark.parametrize("value", [42, ["redirects.yaml"], None], ids=["int", "list", "none"])
def test_bad_type_is_e003(value: object) -> None:
    assert ids(REDIRECTWARE=value) == ["redirectware.E003"]


def test_bad_allowed_hosts_entry_is_e004() -> None:
    assert ids(REDIRECTWARE=GOOD, ALLOWED_HOSTS=["exa mple.com"]) == ["redirectware.E004"]


def test_document_allowed_hosts_make_django_entries_irrelevant() -> None:
    document = {**GOOD, "settings": {"allowed_hosts": ["example.com"]}}
    assert ids(REDIRECTWARE=document, ALLOWED_HOSTS=["exa mple.com"]) == []


def test_reload_without_file_is_e005() -> None:
    assert ids(REDIRECTWARE=GOOD, REDIRECTWARE_RELOAD=True) == ["redirectware.E005"]
    # "yes" means True (a value from os.environ): reloading a dict is what is wrong.
    assert ids(REDIRECTWARE=GOOD, REDIRECTWARE_RELOAD="yes") == ["redirectware.E005"]


@pytest.mark.parametrize("value", ["False", "false", "0", "NO", 0, False])
def test_reload_off_as_a_string_is_off(value: object) -> None:
    # Before, any string was refused (and bool() of it would have been True).
    assert ids(REDIRECTWARE=GOOD, REDIRECTWARE_RELOAD=value) == []
    with override_settings(REDIRECTWARE=GOOD, REDIRECTWARE_RELOAD=value):
        assert rule_holder().reload is False


@pytest.mark.parametrize("value", ["True", "true", "1", "Yes", 1])
def test_reload_on_as_a_string_is_on(tmp_path: Path, value: object) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text("version: 1\nrules:\n  - {https: true}\n", encoding="utf-8")
    with override_settings(REDIRECTWARE=path, REDIRECTWARE_RELOAD=value):
        assert ids() == []
        assert rule_holder().reload is True


@pytest.mark.parametrize("value", ["maybe", "", 2, None])
def test_reload_that_is_no_boolean_is_e005_naming_the_value(value: object) -> None:
    with override_settings(REDIRECTWARE=GOOD, REDIRECTWARE_RELOAD=value):
        [message] = [m for m in run_checks() if m.id == "redirectware.E005"]
        assert message.msg == (
            "settings.REDIRECTWARE_RELOAD must be true or false "
            f"(one of true/false/1/0/yes/no, any case), not {value!r}."
        )
        with pytest.raises(ImproperlyConfigured, match=r"redirectware\.E005"):
            Client().get("/")


@pytest.mark.parametrize("value", [-1, "1MB", 1.5, True], ids=["negative", "str", "float", "bool"])
def test_bad_drain_limit_is_e006(value: object) -> None:
    assert ids(REDIRECTWARE=GOOD, REDIRECTWARE_DRAIN_LIMIT=value) == ["redirectware.E006"]
    with (
        override_settings(REDIRECTWARE=GOOD, REDIRECTWARE_DRAIN_LIMIT=value),
        pytest.raises(ImproperlyConfigured, match=r"redirectware\.E006.*REDIRECTWARE_DRAIN_LIMIT"),
    ):
        Client().get("/")


def test_drain_limit_zero_is_accepted() -> None:
    assert ids(REDIRECTWARE=GOOD, REDIRECTWARE_DRAIN_LIMIT=0) == []


def test_ruleset_setting_is_accepted() -> None:
    assert ids(REDIRECTWARE=RuleSet.from_dict(GOOD)) == []


def test_proxy_header_without_trusted_proxies_is_w001() -> None:
    header = ("HTTP_X_FORWARDED_PROTO", "https")
    assert ids(REDIRECTWARE=GOOD, SECURE_PROXY_SSL_HEADER=header) == ["redirectware.W001"]
    trusted = {**GOOD, "settings": {"trusted_proxies": ["10.0.0.0/8"]}}
    assert ids(REDIRECTWARE=trusted, SECURE_PROXY_SSL_HEADER=header) == []


def test_proxy_header_redirectware_does_not_read_is_w002() -> None:
    trusted = {**GOOD, "settings": {"trusted_proxies": ["10.0.0.0/8"]}}
    header = ("HTTP_X_FORWARDED_SSL", "on")
    assert ids(REDIRECTWARE=trusted, SECURE_PROXY_SSL_HEADER=header) == ["redirectware.W002"]


def test_middleware_missing_is_w003() -> None:
    assert ids(REDIRECTWARE=GOOD, MIDDLEWARE=[SECURITY, COMMON]) == ["redirectware.W003"]


def test_middleware_after_redirecting_middleware_is_w004() -> None:
    assert ids(REDIRECTWARE=GOOD, MIDDLEWARE=[SECURITY, OURS, COMMON]) == ["redirectware.W004"]
    assert ids(REDIRECTWARE=GOOD, MIDDLEWARE=[COMMON, OURS]) == ["redirectware.W004"]
    assert ids(REDIRECTWARE=GOOD, MIDDLEWARE=[OURS, SECURITY, COMMON]) == []


def test_secure_ssl_redirect_is_w005() -> None:
    assert ids(REDIRECTWARE=GOOD, SECURE_SSL_REDIRECT=True) == ["redirectware.W005"]


def test_several_problems_are_all_reported() -> None:
    assert ids(
        REDIRECTWARE=GOOD,
        MIDDLEWARE=[SECURITY, OURS],
        SECURE_SSL_REDIRECT=True,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    ) == ["redirectware.W001", "redirectware.W004", "redirectware.W005"]
