"""The one exception a rule document can raise: :class:`RuleError`."""

from __future__ import annotations


class RuleError(ValueError):
    """An invalid rule document, raised at load time and never on a request.

    The message names where the problem is, as precisely as the source allows::

        redirects.yaml:14: rules[3] 'api-v1': to: placeholder {rets} is not captured ...

    The parts are also available as attributes so that tools (``redirectware check``,
    Django's system checks) can present them their own way.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        rule_index: int | None = None,
        rule_name: str | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.rule_index = rule_index
        self.rule_name = rule_name
        self.key = key
        super().__init__(self._format())

    def _format(self) -> str:
        parts: list[str] = []
        if self.source is not None:
            where = self.source if self.line is None else f"{self.source}:{self.line}"
            parts.append(where)
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.rule_index is not None:
            rule = f"rules[{self.rule_index}]"
            if self.rule_name is not None:
                rule += f" {self.rule_name!r}"
            parts.append(rule)
        if self.key is not None:
            parts.append(self.key)
        parts.append(self.message)
        return ": ".join(parts)

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the keyword-only fields when the error crosses a process boundary.
        return (
            _rebuild,
            (self.message, self.source, self.line, self.rule_index, self.rule_name, self.key),
        )


def _rebuild(
    message: str,
    source: str | None,
    line: int | None,
    rule_index: int | None,
    rule_name: str | None,
    key: str | None,
) -> RuleError:
    return RuleError(
        message, source=source, line=line, rule_index=rule_index, rule_name=rule_name, key=key
    )
