"""The public face of a compiled rule document: :class:`RuleSet`.

It joins the three layers a user never needs to tell apart: the document layer reads and
validates the rules, the engine answers requests, and the loop check (a tool) refuses a
document that would redirect forever, all before a single request is answered.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from redirectware.document.loading import load_source
from redirectware.engine.decision import PASS, Decision
from redirectware.engine.engine import Engine
from redirectware.engine.model import Document
from redirectware.engine.not_found import AfterNotFound
from redirectware.tools.loops import check_loops


class RuleSet(Engine):
    """A compiled, immutable rule document.

    Build one with :meth:`from_file` or :meth:`from_dict` (or :meth:`load`, which takes
    either); ask it what a request gets with :meth:`resolve`. Compiling validates the whole
    document and raises :class:`RuleError` for any problem, including a redirect loop.
    """

    #: Class-level defaults: a rule set built around ``__init__`` (as tests do) waits for none.
    waits_for_404 = False
    _after_404: AfterNotFound | None = None

    def __init__(self, document: Document) -> None:
        super().__init__(document)
        check_loops(self)
        self._after_404 = AfterNotFound.of(document)
        #: Whether a rule says ``when: not_found``: then adapters watch the app's answer to
        #: every request for a 404, and ask :meth:`resolve_not_found` about it.
        self.waits_for_404 = self._after_404 is not None

    def resolve_not_found(
        self,
        method: str,
        scheme: str,
        host: str | None,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        client: str | None = None,
    ) -> Decision:
        """What a request gets once the app has answered it 404: the answer of a
        ``when: not_found`` rule, or PASS (the app's 404 stands); see
        :class:`~redirectware.engine.not_found.AfterNotFound`. Any method: a POST is answered
        307 or 308 (never 301/302), which tells the client to send its body again to the new
        URL; the app's 404 did nothing that sending it again would repeat. The arguments are
        those of :meth:`resolve`."""
        if self._after_404 is None:
            return PASS
        return self._after_404.resolve(method, scheme, host, path, query, headers, client)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> RuleSet:
        """Load a ``.yaml``, ``.yml`` or ``.json`` rule file."""
        return cls(load_source(os.fspath(path)))

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> RuleSet:
        """Compile a rule document given as a mapping (as a Django setting would hold it)."""
        return cls(load_source(document))

    @classmethod
    def load(cls, rules: RuleSet | str | os.PathLike[str] | Mapping[str, Any]) -> RuleSet:
        """Accept what ``rules=`` accepts: a RuleSet, a path, or a document mapping."""
        if isinstance(rules, RuleSet):
            return rules
        if isinstance(rules, str | os.PathLike):
            return cls.from_file(rules)
        if isinstance(rules, Mapping):
            return cls.from_dict(rules)
        raise TypeError(f"rules must be a path, a dict or a RuleSet, got {type(rules).__name__}")

    def with_settings(self, **changes: Any) -> RuleSet:
        """A new rule set with some :class:`~redirectware.engine.model.Settings` fields replaced.

        For adapters whose framework already holds a setting (Django's ``ALLOWED_HOSTS``):
        ``ruleset.with_settings(allowed_hosts=..., allowed_hosts_given=True)``. The copy is
        compiled again, so loop detection sees the new settings too.
        """
        settings = dataclasses.replace(self.settings, **changes)
        return RuleSet(dataclasses.replace(self.document, settings=settings))
