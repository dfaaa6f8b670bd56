"""The admin's hit-count actions run by hand, under review and without, printing what they
did as one line of JSON (see tests/test_django_versions.py). Run with
``manage.py shell -c "from tests.admin_site.stats_actions import main; main()"`` and
``ADMIN_SITE_REVIEW=1``."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin import site
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.management import call_command
from django.test import RequestFactory, override_settings

from redirectware.django.models import Redirect
from redirectware.django.stats import NotFound
from redirectware.django.stats_admin import NotFoundAdmin, mark_rows_gone
from redirectware.django.versions import draft
from redirectware.django.versions_admin import ReviewedRedirectAdmin


def _request() -> Any:
    request = RequestFactory().post("/")
    request.user = type("Editor", (), {"get_username": lambda self: "eve"})()
    request._messages = CookieStorage(request)  # type: ignore[attr-defined]
    return request


def main() -> None:
    """Mark a stale row gone and a 404 gone under review, publish, then mark one without."""
    seen: dict[str, Any] = {}
    Redirect.objects.create(from_path="/stale", to="/one")
    NotFound.objects.create(path="/lost", hits=9)
    request = _request()
    with override_settings(REDIRECTWARE_REVIEW=True):
        mark_rows_gone(ReviewedRedirectAdmin(Redirect, site), request, Redirect.objects.all())
        NotFoundAdmin(NotFound, site).mark_gone(request, NotFound.objects.all())
    seen["live_under_review"] = list(Redirect.objects.values_list("from_path", "to", "status"))
    staged = draft("default")
    seen["draft_author"] = staged.author if staged is not None else None
    seen["staged"] = sorted(
        [str((c.before or {}).get("from_path")), (c.after or {}).get("from_path"),
         (c.after or {}).get("status")]
        for c in (staged.changed_rows() if staged is not None else [])
    )  # fmt: skip
    seen["said"] = [str(message) for message in request._messages]
    call_command("redirectware_publish", verbosity=0)
    seen["published"] = sorted(Redirect.objects.values_list("from_path", "status"))
    fresh = Redirect.objects.create(from_path="/fresh", to="/two")
    request = _request()
    with override_settings(REDIRECTWARE_REVIEW=False):
        rows = Redirect.objects.filter(pk=fresh.pk)
        mark_rows_gone(ReviewedRedirectAdmin(Redirect, site), request, rows)
    said = [str(message) for message in request._messages]
    seen["without_review"] = {
        "status": Redirect.objects.get(pk=fresh.pk).status,
        "said": said[0] if said else None,
    }
    print(json.dumps(seen))
