"""A clear error when an optional package is missing: which extra installs it.

Every feature that needs an extra raises :class:`MissingExtra` (an ``ImportError``) through
:func:`require_extra`. A library user sees it as any failed import; the ``redirectware``
command prints it as one line, the ``pip install`` to run, and exits 2 without a traceback
(:func:`missing_extra` finds it behind a :class:`~redirectware.RuleError` too, as when a
document's ``from_regex`` needs RE2).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence


class MissingExtra(ImportError):
    """``feature`` needs the extra ``extra``, whose package is not installed (``reason``)."""

    def __init__(self, feature: str, extra: str, reason: str, name: str | None = None) -> None:
        self.feature = feature
        self.extra = extra
        self.reason = reason
        super().__init__(
            f"{feature} needs the '{extra}' extra ({reason}): {self.install}", name=name
        )

    @property
    def install(self) -> str:
        """The command that installs the extra."""
        return f"pip install 'redirectware[{self.extra}]'"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only parts survive a process boundary (a worker's error sent to its parent).
        return (type(self), (self.feature, self.extra, self.reason, self.name))


def require_extra(feature: str, extra: str, modules: Sequence[str]) -> None:
    """Import ``modules``; if one is missing, raise :class:`MissingExtra` naming the extra.

    The error keeps the missing module's own message (``No module named 'asgiref'``) and adds
    what to do about it.
    """
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise MissingExtra(feature, extra, str(error), name=error.name) from error


def missing_extra(error: BaseException) -> MissingExtra | None:
    """The :class:`MissingExtra` that ``error`` is, or was raised while handling, else None.

    A document that needs an extra (``from_regex``) fails to load with a ``RuleError`` naming
    the rule; the missing extra is the exception it was raised from.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, MissingExtra):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
