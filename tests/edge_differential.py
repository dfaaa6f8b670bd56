"""The differential proof of an export: the same requests to an edge server and to the
middleware, the answers compared (status, Location, Cache-Control, Sunset, Deprecation).

The requests: every rule's sample request, every row of a map, the document's own
``tests:``, and a fixed corpus of the paths where exports most often disagree (``%20`` and
other escapes in either case, ``/api/v1`` against ``/api/v1/``, an empty query), each sent
with GET, HEAD, POST, PUT and DELETE, to each host the document names and one it does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import urlsplit

from redirectware import RuleSet
from redirectware.engine.model import MapAction
from redirectware.engine.urls import canonical_literal
from redirectware.tools.exporting.export import export
from redirectware.tools.samples import sample_request
from tests.edge_servers import Answer, answer, middleware
from tests.servers import Server

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")
FIXTURES = Path(__file__).parent / "fixtures" / "export"
ROOT = Path(__file__).parent.parent

#: Paths where an export most often disagrees with the middleware.
CORPUS = (
    "/",
    "/healthz",
    "/account/healthz",
    "/account/me?tab=1",
    "/api/v1",
    "/api/v1/",
    "/api/v1/orders?x=1",
    "/api/v1/a%2Fb",
    "/api/v1/a%2fb?q=%20",
    "/api/v1/a%20b",
    "/%61pi/v1/x",
    "/old%20page",
    "/old%20page?",
    "/%7Euser",
    "/%7euser",
    "/~user",
    "/caf%c3%a9",
    "/caf%C3%A9?x=1",
    "/CAF%C3%A9",
    "/items/42",
    "/items/4x",
    "/find/tea?utm=1",
    "/forms/contact",
    "/feed",
    "/manual/keep/this",
    "/manual/go/there?x",
    "/blog/post",
    "/blog/post/",
    "/shop/x/",
    "/shop/x//",
    "/legacy/a?ref=1",
    "/legacy/b",
    "/legacy/case",
    "/Legacy/Case",
    "/page.php?id=3",
    "/page.php?id=4",
    "/docs/intro",
    "/p",
    "/t?x=1",
    "/s301",
    "/s302",
    "/s307",
    "/s308",
    "/wiki/a/b",
    "/s/tea",
    "/s/tea?x=1&y=%20",
    "/nothing-here",
    # case_sensitive: false, trailing_slash_match: ignore, and their near misses.
    "/about-us",
    "/ABOUT-US",
    "/About-Us/",
    "/about-usx",
    "/%41bout-us",
    "/docs/intro/",
    "/docs/intro//",
    "/DOCS/INTRO",
    "/old",
    "/old/",
    "/blocked?x=1",
    "/CAF%C3%89/latte",
    "/caf%c3%a9/latte/",
    "/GUIDES/a/b/",
    "/guides/private/x",
    "/guides/Private/x/",
    "/TEAM/",
    "/jobs",
    "/PRESS/",
    "/legacy/q?id=1",
    "/api/v0/x?y=1",
    # from_regex: the spellings of one canonical path, and near misses.
    "/posts/2024/hello",
    "/posts/2024/Hello",
    "/posts/%32024/x",
    "/posts/202/x",
    "/posts/2024/hello/",
    "/docs/a%2Fb/edit",
    "/docs/intro/edit/",
    "/shop/a/b%20c?x=1",
    "/ITEMS/42",
    "/product/7",
    "/products/7x",
    "/team/ann/",
    "/Team/ann/",
    "/Team/%61nn//",
    "/caf%c3%a9/latte",
    "/caf%C3%A9/latte/large",
    "/caf%C3%89/latte",
    # Chains through https and the canonical host.
    "/api/v0/x",
    "/legacy/gone?x=1",
    "/retired",
    "/healthz?x=1",
)

OTHER_HOST = "unlisted.test"


def _hosts(ruleset: RuleSet) -> list[str]:
    allowed = ruleset.settings.allowed_hosts
    hosts = {"example.com", OTHER_HOST, *allowed.exact}
    hosts.update("a" + suffix for suffix in allowed.suffixes)
    return sorted(hosts)


def requests(ruleset: RuleSet) -> Iterator[tuple[str, str, str]]:
    """``(method, target, host)`` of every request of the proof, each once."""
    seen: set[tuple[str, str]] = set()
    targets: list[tuple[str, str | None]] = [(path, None) for path in CORPUS]
    for rule in ruleset.rules:
        sample = sample_request(rule, ruleset.settings)
        if "http" in sample.schemes:
            query = f"?{sample.query}" if sample.query else ""
            # As a client sends it: /café as /caf%C3%A9, a space as %20.
            targets.append((canonical_literal(sample.path) + query, sample.host))
        if isinstance(rule.action, MapAction):
            targets += [(key, None) for key in rule.action.entries]
    for test in ruleset.document.tests:
        method_url = str(test.get("request", "")) if isinstance(test, dict) else ""
        url = urlsplit(method_url.partition(" ")[2].strip())
        if url.scheme == "http":
            targets.append((url.path + (f"?{url.query}" if url.query else ""), url.hostname))
    for target, host in targets:
        for each in [host] if host else _hosts(ruleset):
            if (target, each) not in seen:
                seen.add((target, each))
                for method in METHODS:
                    yield method, target, each


Edge = Callable[[str, Path], AbstractContextManager[Server]]


def prove(
    rules_file: Path, fmt: str, edge: Edge, folder: Path, env: dict[str, str] | None = None
) -> int:
    """Export ``rules_file`` to ``fmt``, serve it with ``edge`` and with the middleware, and
    fail with both answers for every request on which they differ; return how many agreed."""
    ruleset = RuleSet.from_file(rules_file)
    config = export(ruleset, fmt)
    (folder / "edge").mkdir()
    differences: list[str] = []
    count = 0
    with edge(config, folder / "edge") as server, middleware(rules_file, folder, env) as app:
        for method, target, host in requests(ruleset):
            got: Answer = answer(server, method, target, host)
            expected = answer(app, method, target, host)
            count += 1
            if got != expected:
                differences.append(
                    f"{method} {target} (Host: {host}):\n"
                    f"    middleware: {expected}\n    {fmt}: {got}"
                )
    assert not differences, (
        f"{len(differences)} of {count} answers differ; the {fmt} config:\n{config}\n"
        + "\n".join(differences)
    )
    return count
