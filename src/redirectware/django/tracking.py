"""``track_url_changes(Model)``: a saved object whose ``get_absolute_url()`` changed leaves a
redirect row from the old URL to the new one, as Wagtail does for its pages.

Call it once, from an ``AppConfig.ready()``::

    from redirectware.django import track_url_changes
    track_url_changes(Article)

When an ``Article`` is saved with a new URL, a row ``old -> new`` is written (replacing any
row from the old URL), rows that led to the old URL are pointed at the new one (so no chain
grows), and a row *from* the new URL is deleted (the object took back a URL it had before).
The change is judged like an admin save first: one that would make the rule set invalid (a
loop with the file's rules) is not written, and logged at WARNING. Only same-site paths are
tracked; an absolute ``get_absolute_url()`` counts by its path.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.db import router, transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

from redirectware.document.mapfile import RawRow

from .models import Redirect
from .rows import Pending
from .validation import judge

logger = logging.getLogger("redirectware")
_OLD_URL = "_redirectware_old_url"
#: Who ``changed_by`` names for the rows this writes.
TRACKER = "track_url_changes"


def _path(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path.startswith("/") and not path.startswith("//") else None


def _before(sender: type[Model], instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        return
    using = kwargs.get("using") or router.db_for_write(sender, instance=instance)
    saved = sender._default_manager.using(using).filter(pk=instance.pk).first()
    setattr(instance, _OLD_URL, _path(saved.get_absolute_url()) if saved is not None else None)


def _after(sender: type[Model], instance: Any, raw: bool = False, **kwargs: Any) -> None:
    old = getattr(instance, _OLD_URL, None)
    new = _path(instance.get_absolute_url())
    if raw or old is None or new is None or old == new:
        return
    alias = router.db_for_write(Redirect)
    rows = Redirect.objects.using(alias).filter(host="")
    drop = set(rows.filter(from_path__in=(old, new)).values_list("pk", flat=True))
    leading = list(rows.filter(to=old).exclude(pk__in=drop))
    add: list[tuple[str, RawRow]] = [("", (old, new, None, None, None))]
    add += [("", (row.from_path, new, row.permanent, row.status, None)) for row in leading]
    verdict = judge(Pending(alias, drop | {row.pk for row in leading}, add))
    if verdict.error is not None:
        logger.warning("no redirect from %s to %s: %s", old, new, verdict.error.technical)
        return
    with transaction.atomic(using=alias):
        Redirect.objects.using(alias).filter(pk__in=drop).delete()
        for row in leading:
            row.to = new
            row.changed_by = TRACKER
            row.save(using=alias)
        Redirect.objects.using(alias).create(from_path=old, to=new, changed_by=TRACKER)


def track_url_changes(model: type[Model]) -> None:
    """Record a redirect row whenever a saved ``model`` object's URL changes."""
    if not hasattr(model, "get_absolute_url"):
        raise TypeError(f"{model.__name__} has no get_absolute_url(): there is no URL to track")
    uid = f"redirectware-track-{model._meta.label}"
    pre_save.connect(_before, sender=model, dispatch_uid=uid, weak=False)
    post_save.connect(_after, sender=model, dispatch_uid=uid, weak=False)
