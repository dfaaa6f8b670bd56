"""The importers by name, and :func:`import_file`, which every caller uses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import apache, cloudflare, django, netlify, nginx, vercel, wagtail
from .result import ImportResult
from .settling import settle

#: Each format's reader: the source's text and its name (for messages) to a result.
READERS: dict[str, Callable[[str, str], ImportResult]] = {
    "netlify": netlify.parse,
    "apache": apache.parse,
    "nginx": nginx.parse,
    "cloudflare": cloudflare.parse,
    "vercel": vercel.parse,
    "django": django.parse,
}


#: The formats read from the file itself, not its text (a spreadsheet may be binary).
FILE_READERS: dict[str, Callable[[Path], ImportResult]] = {
    "wagtail": wagtail.read_file,
}
#: Every format's name, for the command line.
FORMATS = (*READERS, *FILE_READERS)


def import_file(
    fmt: str, path: Path, *, site_id: int | None = None, append_slash: bool = True
) -> ImportResult:
    """Read ``path`` as ``fmt``; ``ValueError`` when it cannot be read at all (a reader
    that needs a missing extra says which, in one line). ``site_id`` and ``append_slash``
    are a Django project's ``SITE_ID`` and ``APPEND_SLASH`` (``django`` only)."""
    if fmt in FILE_READERS:
        try:
            result = FILE_READERS[fmt](path)
        except ImportError as error:
            raise ValueError(str(error)) from None
    else:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not UTF-8 text") from None
        if fmt == "django":
            result = django.parse(text, str(path), site_id=site_id, append_slash=append_slash)
        else:
            result = READERS[fmt](text, str(path))
    settle(result)
    return result
