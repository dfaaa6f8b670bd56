"""Proving that a live site answers as the rules say: what ``redirectware verify`` runs.

The requests are the document's own: every ``tests:`` entry and each rule's sample requests
(built as ``check`` builds them, :mod:`.samples`; every row of a map), each sent as a GET and
as a POST with a small body. What each must get is asked of the engine
(:meth:`~redirectware.RuleSet.resolve`, and ``resolve_not_found`` for ``app: not_found``),
never worked out here, so the verdict is the middleware's own answer set against the site's.

For each request: the status and ``Location``; a POST only ever redirected with 307 or 308;
``Cache-Control``, ``Vary`` and ``Strict-Transport-Security`` as the engine sends them. For
each redirect target on the site: one hop (it does not redirect again, unless the document
says the chain goes on), a 2xx to a HEAD and to a GET, and not a page that says "not found"
with a 200 (a soft 404).

Polite by construction: a bounded number of requests in flight, a bounded rate, a timeout
on each, redirects never followed by the client, and nothing requested but the document's
URLs and the targets they name on the site's own hosts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from redirectware._extras import require_extra
from redirectware.document.expectations import Expectation, parse_expectations
from redirectware.engine.decision import PASS, Decision
from redirectware.engine.engine import Engine
from redirectware.engine.model import MapAction, Rule

from .samples import sample_path, sample_request

if TYPE_CHECKING:
    import httpx

#: The body of every POST: small, and plainly a check, should it land in a log.
POST_BODY = b"redirectware-verify=1"
#: How much of a target's body is read to tell a soft 404.
BODY_LIMIT = 65536
#: The redirect statuses, and which of them a client may turn a POST into a GET after.
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DOWNGRADING = frozenset({301, 302, 303})
#: The response headers compared with what the engine sends, when it sends them.
COMPARED_HEADERS = ("Cache-Control", "Vary", "Strict-Transport-Security")
#: A page that answers 200 and says it is not there, by its title or its opening words.
_SOFT_404_TITLE = re.compile(
    r"<title[^>]*>[^<]*\b(404|not found|page not found|does ?n[o']t exist|no longer exists)\b",
    re.I,
)
_SOFT_404_TEXT = re.compile(r"\b(404\b|not found|page (does ?n[o']t|no longer) exists?)", re.I)

# The names of checks, as the output and --json name them.
STATUS = "status"
POST_METHOD = "post-method"
LOCATION = "location"
HEADER = "header"
CHAIN = "chain"
TARGET = "target"
SOFT_404 = "soft-404"
NO_ANSWER = "no-answer"


class Unreachable(Exception):
    """The site did not take a connection: nothing about the rules can be said."""


@dataclass(frozen=True)
class Base:
    """Where requests of one scheme are sent: ``http://127.0.0.1:8000``."""

    scheme: str
    netloc: str

    @classmethod
    def parse(cls, text: str) -> Base:
        """A base URL: ``http(s)://host[:port]``, without a path; ValueError if not."""
        parts = urlsplit(text.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{text!r} is not a base URL: write e.g. http://127.0.0.1:8000")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(
                f"{text!r}: a base URL has no path or query (the document's paths are sent "
                "as they are); write e.g. https://staging.example.com"
            )
        return cls(parts.scheme, parts.netloc)

    @property
    def url(self) -> str:
        """The base as written back."""
        return f"{self.scheme}://{self.netloc}"


@dataclass(frozen=True)
class Request:
    """One of the document's requests, whatever its method (each is sent as GET and POST)."""

    scheme: str
    host: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    #: Where the request comes from: ``redirects.yaml:31: tests[2]`` or a rule's label.
    origin: str
    #: ``app: not_found``: the app is said to answer this URL 404.
    app_not_found: bool = False
    #: A URL the document names as it is (a ``tests:`` entry, a map row, a literal
    #: ``from``), whose redirect target must be there; a placeholder's sample value
    #: (``/api/v1/sample/path``) leads to a target no site need have.
    concrete: bool = True
    #: Headers a ``tests:`` entry expects (``Retry-After``): compared besides
    #: :data:`COMPARED_HEADERS`, when the engine sends them.
    expect_headers: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The URL as the document names it."""
        return f"{self.scheme}://{self.host}{self.path}" + (f"?{self.query}" if self.query else "")


@dataclass(frozen=True)
class Failure:
    """One check the site failed."""

    check: str
    #: ``POST http://example.com/old``: the request that failed, as the document names it.
    request: str
    message: str
    #: Where the request comes from in the document (a ``tests:`` entry, a rule).
    origin: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.request}: {self.check}: {self.message}"


@dataclass
class Report:
    """What verifying found: how many checks ran, which failed, what was not sent and why."""

    checked: int = 0
    failures: list[Failure] = field(default_factory=list)
    #: Why requests were not sent, with how many: a client address, a scheme with no base.
    skipped: dict[str, int] = field(default_factory=dict)
    #: The HTTP versions the site answered in (``HTTP/2`` over TLS where it offers it),
    #: with how many answers each: a CDN that speaks HTTP/2 is checked as browsers meet it.
    protocols: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        """Count one request not sent for ``why``."""
        self.skipped[why] = self.skipped.get(why, 0) + 1

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return not self.failures


@dataclass(frozen=True)
class Options:
    """How politely to ask: requests in flight, per second, and how long to wait for each."""

    concurrency: int = 4
    rate: float = 10.0
    timeout: float = 10.0
    #: Send each request with the base's host in ``Host``, not the document's.
    host_from_base: bool = False
    #: Check TLS certificates (off for a staging site with a self-signed one).
    verify_tls: bool = True


# --- the requests -----------------------------------------------------------------------------


def _where(ruleset: Engine, rule: Rule) -> str:
    place = ruleset.source or "(dict)"
    if rule.line is not None:
        place += f":{rule.line}"
    return f"{place}: {rule.label}"


def _from_tests(expectations: Sequence[Expectation], report: Report) -> Iterator[Request]:
    for exp in expectations:
        probe = exp.probe
        if probe.client is not None:
            # The site sees this machine's address, not the one the entry names.
            report.skip("tests: entries that name a client address")
            continue
        headers = tuple((n, v) for n, v in probe.headers.items() if n != "host")
        host = probe.headers.get("host", probe.host)
        yield Request(probe.scheme, host, probe.path, probe.query, headers, exp.where,
                      app_not_found=exp.app_not_found,
                      expect_headers=tuple(name for name, _ in exp.headers))  # fmt: skip


def _sample_paths(rule: Rule) -> Iterator[tuple[str, str]]:
    if isinstance(rule.action, MapAction):
        for key in rule.action.entries:
            path, _, query = key.partition("?")
            yield path, query
    else:
        yield sample_path(rule.path), ""


def _literal(rule: Rule) -> bool:
    """Whether the rule's sample request is a URL the rule names, with no sample values."""
    if isinstance(rule.action, MapAction):
        return True
    path = rule.path is None or not rule.path.names
    host = rule.host is None or rule.host.exact is not None
    return rule.regex is None and path and host


def _from_rules(ruleset: Engine) -> Iterator[Request]:
    for rule in ruleset.rules:
        for path, query in _sample_paths(rule):
            sample = sample_request(rule, ruleset.settings, path, query)
            for scheme in sample.schemes:
                yield Request(scheme, sample.host, sample.path, sample.query,
                              tuple(sorted(sample.headers.items())), _where(ruleset, rule),
                              concrete=_literal(rule))  # fmt: skip


def plan(ruleset: Engine, bases: Mapping[str, Base], options: Options,
         report: Report) -> list[Request]:  # fmt: skip
    """The document's requests that can be sent to ``bases``, each once; the others are
    counted in ``report.skipped`` with the reason."""
    expectations = parse_expectations(list(ruleset.document.tests), ruleset.source)
    seen: set[tuple[object, ...]] = set()
    out: list[Request] = []
    for request in [*_from_tests(expectations, report), *_from_rules(ruleset)]:
        base = bases.get(request.scheme)
        if base is not None and options.host_from_base:
            request = dataclasses.replace(request, host=base.netloc)
        key = (request.scheme, request.host, request.path, request.query, request.headers,
               request.app_not_found)  # fmt: skip
        if key in seen:
            continue  # a tests: entry and a rule's sample are often the same request
        seen.add(key)
        if base is None:
            report.skip(f"{request.scheme}:// requests (no {request.scheme}:// base URL given)")
            continue
        out.append(request)
    return out


# --- what the engine says ---------------------------------------------------------------------


def _after_404(ruleset: Engine, method: str, request: Request) -> Decision:
    after = getattr(ruleset, "resolve_not_found", None)
    if after is None:
        return PASS
    decision: Decision = after(method, request.scheme, request.host, request.path,
                               request.query, dict(request.headers))  # fmt: skip
    return decision


def expected(ruleset: Engine, method: str, request: Request) -> tuple[Decision, Decision | None]:
    """What the request must get; and, when that is the app's answer, the ``when:
    not_found`` redirect that stands instead should the app not serve the URL (else None).

    Whether the live app serves a URL is the app's to say: a sample request, or a ``tests:``
    entry written for an app that serves it, may meet one that does not. An ``app:
    not_found`` entry says it does not, and must get the redirect."""
    decision = ruleset.resolve(method, request.scheme, request.host, request.path,
                               request.query, dict(request.headers))  # fmt: skip
    if not decision.passes:
        return decision, None
    after = _after_404(ruleset, method, request)
    if request.app_not_found:
        return after, None
    return decision, None if after.passes else after


# --- judging one answer -----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the site answered: status, headers (lower-case names), the start of the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def location(self) -> str | None:
        """The ``Location`` header, if any."""
        return self.headers.get("location")

    def describe(self) -> str:
        """``301 https://example.com/new``, or ``200``."""
        return f"{self.status} {self.location}" if self.location else str(self.status)


def _said(decision: Decision) -> str:
    rule = f" ({decision.rule.label})" if decision.rule is not None else ""
    where = f" {decision.location}" if decision.location else ""
    return f"{decision.status}{where}{rule}"


def _tokens(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def _header_failures(decision: Decision, answer: Answer, extra: Sequence[str] = ()) -> list[str]:
    """Each of the compared headers the engine sends and the site does not send alike."""
    wanted = {name.lower(): value for name, value in decision.headers}
    problems: list[str] = []
    # Each once, whatever its case: a tests: entry may expect Cache-Control too.
    names = {name.lower(): name for name in (*extra, *COMPARED_HEADERS)}
    for name in names.values():
        want = wanted.get(name.lower())
        if want is None:
            continue
        got = answer.headers.get(name.lower())
        if got is None:
            problems.append(f"{name} is missing; the document sends {want!r}")
        elif name.lower() == "vary":
            # Vary is a set: the site may vary on more (Accept-Encoding), never on less.
            if not _tokens(want) <= _tokens(got):
                problems.append(f"Vary is {got!r}; the document sends {want!r}")
        elif _tokens(got) != _tokens(want):
            problems.append(f"{name} is {got!r}; the document sends {want!r}")
    return problems


def judge(request: Request, method: str, answer: Answer, decision: Decision,
          after: Decision | None, extra_headers: Sequence[str] = ()) -> list[Failure]:  # fmt: skip
    """The checks ``answer`` fails against what the engine says (``decision``; ``after``
    when a ``when: not_found`` redirect may answer instead of the app)."""
    line = f"{method} {request.url}"

    def fail(check: str, message: str) -> Failure:
        return Failure(check, line, message, request.origin)

    redirected = answer.status in REDIRECTS and answer.location is not None
    if decision.passes:
        if after is not None and (redirected or answer.status == 404):
            # The app did not serve it: the when: not_found rule must have answered.
            return judge(request, method, answer, after, None, extra_headers)
        if redirected:
            return [fail(STATUS, f"answered {answer.describe()}; the document lets it through "
                                 "to the app")]  # fmt: skip
        return [fail(HEADER, problem) for problem in _header_failures(decision, answer)]
    failures: list[Failure] = []
    if answer.status != decision.status:
        if method not in ("GET", "HEAD") and answer.status in DOWNGRADING:
            failures.append(fail(POST_METHOD, (
                f"answered {answer.describe()}: after a {answer.status} a client may send "
                f"the {method} again as a GET without its body; the document says "
                f"{_said(decision)}")))  # fmt: skip
        else:
            failures.append(fail(STATUS, f"answered {answer.describe()}; the document says "
                                         f"{_said(decision)}"))  # fmt: skip
        return failures
    if decision.location is not None:
        got = None if answer.location is None else urljoin(request.url, answer.location)
        if got != decision.location:
            failures.append(fail(LOCATION, f"Location is {answer.location or '(none)'}; the "
                                           f"document says {_said(decision)}"))  # fmt: skip
            return failures
    failures += [fail(HEADER, p) for p in _header_failures(decision, answer, extra_headers)]
    return failures


def soft_404(body: bytes) -> bool:
    """Whether a 200's body says the page is not there: its title, or its opening words
    when it has no title (a bare "Not Found" page)."""
    text = body[:BODY_LIMIT].decode("utf-8", errors="replace")
    if _SOFT_404_TITLE.search(text):
        return True
    if "<title" in text.lower():
        return False
    visible = re.sub(r"<[^>]*>", " ", text)[:512]
    return _SOFT_404_TEXT.search(visible) is not None


# --- sending ----------------------------------------------------------------------------------


class _Pace:
    """At most ``rate`` requests started per second, evenly spaced, across all tasks."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


class _Client:
    """Sends requests to the bases, politely, and reads at most :data:`BODY_LIMIT` bytes."""

    def __init__(self, http: httpx.AsyncClient, bases: Mapping[str, Base],
                 options: Options) -> None:  # fmt: skip
        self.http = http
        self.bases = bases
        self.options = options
        self.slots = asyncio.Semaphore(options.concurrency)
        self.pace = _Pace(options.rate)
        #: The HTTP versions answers came in, with how many each.
        self.protocols: dict[str, int] = {}

    async def send(self, method: str, scheme: str, host: str, path: str, query: str,
                   headers: Sequence[tuple[str, str]], *,
                   body: bool = False) -> Answer:  # fmt: skip
        import httpx

        base = self.bases[scheme]
        url = f"{base.url}{path}" + (f"?{query}" if query else "")
        sent = [("Host", host), *headers]
        extensions: dict[str, Any] = {}
        if scheme == "https" and host != base.netloc:
            # The certificate is the site's own name's, not the address the base names.
            extensions["sni_hostname"] = urlsplit(f"//{host}").hostname or host
        content = None
        if method == "POST":
            content = POST_BODY
            sent.append(("Content-Type", "application/x-www-form-urlencoded"))
        async with self.slots:
            await self.pace.wait()
            built = self.http.build_request(method, httpx.URL(url), headers=sent,
                                            content=content, extensions=extensions)  # fmt: skip
            response = await self.http.send(built, stream=True)
            try:
                chunks: list[bytes] = []
                size = 0
                if body:
                    # Decoded: a gzip body's "Not Found" is read as the text it is.
                    async for chunk in response.aiter_bytes():
                        chunks.append(chunk)
                        size += len(chunk)
                        if size >= BODY_LIMIT:
                            break
            finally:
                await response.aclose()
        self.protocols[response.http_version] = self.protocols.get(response.http_version, 0) + 1
        headers_out = {k.lower(): v for k, v in response.headers.items()}
        return Answer(response.status_code, headers_out, b"".join(chunks))


class _Run:
    """One verification: the requests, then each redirect target, once."""

    def __init__(self, ruleset: Engine, client: _Client, report: Report,
                 site_hosts: set[str]) -> None:  # fmt: skip
        self.ruleset = ruleset
        self.client = client
        self.report = report
        self.site_hosts = site_hosts
        self.targets: dict[str, tuple[Request, str]] = {}
        self.unreachable: str | None = None

    async def _ask(self, method: str, scheme: str, host: str, path: str, query: str,
                   headers: Sequence[tuple[str, str]], line: str, origin: str,
                   body: bool = False) -> Answer | None:  # fmt: skip
        import httpx

        if self.unreachable is not None:
            return None
        try:
            return await self.client.send(method, scheme, host, path, query, headers, body=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            base = self.client.bases[scheme].url
            self.unreachable = f"{base} is unreachable: {error or type(error).__name__}"
        except httpx.TransportError as error:
            self.report.checked += 1
            self.report.failures.append(Failure(NO_ANSWER, line, f"no answer: "
                                                f"{type(error).__name__} {error}".rstrip(),
                                                origin))  # fmt: skip
        return None

    async def request(self, request: Request, method: str) -> None:
        line = f"{method} {request.url}"
        answer = await self._ask(method, request.scheme, request.host, request.path,
                                 request.query, request.headers, line, request.origin)  # fmt: skip
        if answer is None:
            return
        self.report.checked += 1
        decision, after = expected(self.ruleset, method, request)
        failures = judge(request, method, answer, decision, after, request.expect_headers)
        self.report.failures += failures
        final = after if decision.passes and after is not None else decision
        redirect = final.kind == "redirect" and answer.status in REDIRECTS
        if not failures and redirect and request.concrete and final.location is not None:
            self.targets.setdefault(final.location, (request, line))

    async def target(self, url: str, request: Request, line: str) -> None:
        parts = urlsplit(url)
        host = parts.netloc
        if parts.scheme not in self.client.bases:
            self.report.skip(f"redirect targets over {parts.scheme}:// (no base URL for it)")
            return
        if (parts.hostname or "").lower() not in self.site_hosts:
            self.report.skip("redirect targets on other sites (only the site's own hosts are "
                             "requested)")  # fmt: skip
            return
        path = parts.path or "/"
        target = Request(parts.scheme, host, path, parts.query, (), request.origin)
        what = f"{line} -> {url}"
        decision = self.ruleset.resolve("GET", target.scheme, host, path, target.query)

        def fail(check: str, message: str) -> None:
            self.report.failures.append(Failure(check, what, message, request.origin))

        head = await self._ask("HEAD", parts.scheme, host, path, parts.query, (), what,
                               request.origin)  # fmt: skip
        if head is None:
            return
        self.report.checked += 1
        if not decision.passes:
            # The document says the chain goes on (or answers there itself): so must the site.
            for failure in judge(target, "GET", head, decision, None):
                fail(CHAIN if failure.check == STATUS else failure.check, failure.message)
            return
        if head.status in REDIRECTS:
            fail(CHAIN, f"the target redirects again ({head.describe()}); the document ends "
                        "the redirect there: one hop")  # fmt: skip
            return
        if not 200 <= head.status < 300 and head.status not in (405, 501):
            fail(TARGET, f"the target answers {head.status} to a HEAD; a redirect must lead "
                         "to a page that is there")  # fmt: skip
            return
        got = await self._ask("GET", parts.scheme, host, path, parts.query, (), what,
                              request.origin, body=True)  # fmt: skip
        if got is None:
            return
        if got.status in REDIRECTS:
            fail(CHAIN, f"the target redirects again ({got.describe()}); the document ends "
                        "the redirect there: one hop")  # fmt: skip
        elif not 200 <= got.status < 300:
            fail(TARGET, f"the target answers {got.status} to a GET; a redirect must lead "
                         "to a page that is there")  # fmt: skip
        elif soft_404(got.body):
            fail(SOFT_404, "the target answers 200 but its page says it is not found")


def site_hosts(ruleset: Engine, requests: Sequence[Request]) -> set[str]:
    """The hosts of the site: those the requests name and those ``allowed_hosts`` lists."""
    hosts = {(urlsplit(f"//{r.host}").hostname or "").lower() for r in requests}
    hosts |= set(ruleset.settings.allowed_hosts.exact)
    return hosts


async def _verify(ruleset: Engine, bases: Mapping[str, Base], options: Options,
                  report: Report) -> None:  # fmt: skip
    import httpx

    requests = plan(ruleset, bases, options, report)
    timeout = httpx.Timeout(options.timeout)
    limits = httpx.Limits(max_connections=options.concurrency)
    # Named in the site's access log, so that its operators know what is asking.
    agent = {"User-Agent": "redirectware-verify"}
    # HTTP/2 where the site offers it over TLS (ALPN), HTTP/1.1 otherwise: as browsers ask.
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False,
                                 verify=options.verify_tls, trust_env=False, http2=True,
                                 headers=agent) as http:  # fmt: skip
        client = _Client(http, bases, options)
        run = _Run(ruleset, client, report, site_hosts(ruleset, requests))
        await asyncio.gather(*(run.request(r, m) for r in requests for m in ("GET", "POST")))
        if run.unreachable is None:
            await asyncio.gather(
                *(run.target(url, req, line) for url, (req, line) in run.targets.items())
            )
    report.protocols.update(client.protocols)
    if run.unreachable is not None:
        raise Unreachable(run.unreachable)


def verify(ruleset: Engine, bases: Sequence[Base], options: Options | None = None) -> Report:
    """Send the document's requests to ``bases`` (one per scheme) and judge each answer.

    Raises :class:`Unreachable` when a base takes no connection, ``MissingExtra`` without
    httpx.
    """
    require_extra("checking a live site", "verify", ["httpx", "h2"])
    by_scheme: dict[str, Base] = {}
    for base in bases:
        if base.scheme in by_scheme:
            raise ValueError(f"two {base.scheme}:// base URLs: give at most one per scheme")
        by_scheme[base.scheme] = base
    report = Report()
    asyncio.run(_verify(ruleset, by_scheme, options or Options(), report))
    return report
