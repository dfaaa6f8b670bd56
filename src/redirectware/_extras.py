"""A clear error when an optional framework is missing: which extra installs it."""

from __future__ import annotations

import importlib
from collections.abc import Sequence


def require_extra(feature: str, extra: str, modules: Sequence[str]) -> None:
    """Import ``modules``; if one is missing, raise an ``ImportError`` naming the extra.

    The error keeps the missing module's own message (``No module named 'asgiref'``) and adds
    what to do about it, as ``redirectware serve`` does for uvicorn.
    """
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ImportError(
                f"{feature} needs the '{extra}' extra ({error}): "
                f"pip install 'redirectware[{extra}]'",
                name=error.name,
            ) from error
