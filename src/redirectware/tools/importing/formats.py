"""The importers by name, and :func:`import_file`, which every caller uses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import apache, cloudflare, django, netlify, nginx, vercel
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


def import_file(fmt: str, path: Path) -> ImportResult:
    """Read ``path`` as ``fmt``; ``ValueError`` when it cannot be read at all."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    result = READERS[fmt](text, str(path))
    settle(result)
    return result
