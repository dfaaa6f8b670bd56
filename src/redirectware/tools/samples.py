"""Sample requests built from a rule's own conditions.

The load-time loop check and ``redirectware check``'s chain warnings both ask the engine what
a request that the rule would match gets. This module builds that request: placeholders filled
with sample values, the headers, cookies and query the rule asks for, a host it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from redirectware.engine.model import HttpsAction, Rule, Settings
from redirectware.engine.templates import PathTemplate

#: What stands in for each converter's placeholder in a sample path.
SAMPLE_VALUES = {"str": "sample", "int": "1", "path": "sample/path"}


def sample_path(template: PathTemplate | None) -> str:
    """A path ``template`` matches (``/api/{v:int}/{rest:path}`` -> ``/api/1/sample/path``)."""
    if template is None:
        return "/"
    out = template.source
    for name in template.names:
        for converter, value in SAMPLE_VALUES.items():
            out = out.replace("{" + f"{name}:{converter}" + "}", value)
        out = out.replace("{" + name + "}", "sample")
    return out


def sample_host(rule: Rule, settings: Settings) -> str:
    """A host the rule's ``host`` condition accepts, else one the document allows."""
    if rule.host is not None:
        if rule.host.exact is not None:
            return rule.host.exact
        text = rule.host.source.strip().lower().replace("*.", "sample.")
        for name in rule.host.names:
            text = text.replace("{" + name + "}", "sample")
        return text
    allowed = settings.allowed_hosts
    if allowed.exact:
        return sorted(allowed.exact)[0]
    if allowed.suffixes:
        return "sample" + allowed.suffixes[0]
    return "example.com"


@dataclass(frozen=True)
class SampleRequest:
    """A request a rule would match, but for the schemes: try each of :attr:`schemes`."""

    method: str
    schemes: tuple[str, ...]
    host: str
    path: str
    query: str
    headers: dict[str, str]


def sample_request(rule: Rule, settings: Settings, path: str | None = None,
                   query: str = "") -> SampleRequest:  # fmt: skip
    """A request ``rule`` matches; ``path`` and ``query`` override what it would use."""
    headers = {name: value or "1" for name, value in rule.headers}
    if rule.cookies:
        headers["cookie"] = "; ".join(f"{n}={v or '1'}" for n, v in rule.cookies)
    wanted = "&".join(f"{n}={v or '1'}" for n, v in rule.query)
    # An https rule only ever matches plain http requests.
    scheme = "http" if isinstance(rule.action, HttpsAction) else rule.scheme
    return SampleRequest(
        method=sorted(rule.methods)[0] if rule.methods else "GET",
        schemes=(scheme,) if scheme else ("https", "http"),
        host=sample_host(rule, settings),
        path=sample_path(rule.path) if path is None else path,
        query="&".join(part for part in (query, wanted) if part),
        headers=headers,
    )
