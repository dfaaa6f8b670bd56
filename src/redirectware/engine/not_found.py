"""What a request meets once the app has answered it 404: the ``when: not_found`` rules.

A rule with ``when: not_found`` lets the app answer first. The rules a request (of any
method) meets then are the document's own with those rules switched on: the first that
matches decides (any earlier rule that could have matched the request already did, before
the app was asked).
:class:`redirectware.RuleSet` and the importers' settling both ask through here, so the
policy (which methods, which rules) is written once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from .decision import Decision
from .engine import Engine
from .model import Document


class AfterNotFound:
    """The rules of a document as they stand after the app's 404."""

    __slots__ = ("_engine",)

    def __init__(self, document: Document) -> None:
        rules = tuple(
            dataclasses.replace(rule, when_not_found=False) if rule.when_not_found else rule
            for rule in document.rules
        )
        self._engine = Engine(dataclasses.replace(document, rules=rules))

    @classmethod
    def of(cls, document: Document) -> AfterNotFound | None:
        """The rules after a 404, or None when no rule of ``document`` waits for one."""
        return cls(document) if any(r.when_not_found for r in document.rules) else None

    def resolve(
        self,
        method: str,
        scheme: str,
        host: str | None,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        client: str | None = None,
    ) -> Decision:
        """What the request gets now, as :meth:`Engine.resolve` says, for any method: a POST
        gets 307 or 308, so the client sends its body again to the new URL (the app's 404
        did nothing that sending it again would repeat)."""
        return self._engine.resolve(method, scheme, host, path, query, headers, client)
