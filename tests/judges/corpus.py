"""The import corpus: real redirect files of well-known projects, the requests drawn from
each source line, and the comparison of the source tool's answers with the imported
document's (tests/test_import_corpus.py; the files and their sources are in
tests/fixtures/import_corpus/README.md).

For each redirect line: the path it names (placeholders filled), that path with more path,
with its trailing slash toggled, with a query, a near miss, each as GET, and the path as
POST. A request is judged by the line
it was drawn from: when the importer reports that line, its requests are not compared.

The documented differences, and only those, are allowed:

* redirectware sends 308/307 where the source sends 301/302 to a method other than GET and
  HEAD;
* where the source answers a chain of redirects on the site, redirectware sends one
  redirect to the end of it (the judge follows the chain; its first status may differ);
* nginx appends the request's query after a replacement's fragment (``/a#b?q=1``), where
  no server sees it; redirectware drops that query (``/a#b``);
* Netlify matches ``/a`` and ``/a/`` alike and ``/a/*`` matches ``/a`` (GitLab Pages' tests
  pin it, and Netlify documents its trailing-slash normalisation); Cloudflare Pages, the
  open matcher used as the judge, does not: those requests are counted apart.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "import_corpus"
FORMATS = ("netlify", "vercel", "nginx", "apache")


@dataclass(frozen=True)
class Request:
    """One request drawn from a source line."""

    line: int
    method: str
    url: str

    def as_json(self) -> list[Any]:
        """As the answers files hold it."""
        return [self.line, self.method, self.url]


def files(fmt: str) -> list[Path]:
    """The corpus files of one format."""
    return sorted(p for p in (CORPUS / fmt).iterdir() if not p.name.endswith(".answers.json"))


def _fill_template(path: str) -> str:
    """A Netlify or Vercel path with its placeholders filled with sample text."""
    path = re.sub(r":[A-Za-z_]\w*\([^)]*\)", "1", path)
    path = re.sub(r":[A-Za-z_]\w*[*+]", "a/b", path)
    path = re.sub(r":[A-Za-z_]\w*\??", "x1", path)
    return path.replace("*", "a/b").replace("(.*)", "a")


def _fill_regex(pattern: str) -> str | None:
    """A path an nginx or Apache regex matches, for the common shapes; None when the regex
    is beyond these simple fillings (such lines get their literal-prefix request only)."""
    text = pattern.lstrip("^").rstrip("$")
    for old, new in [("(.*)", "a/b"), ("(.+)", "a"), (".*", "a"), (".+", "a"),
                     ("/?", ""), (r"\d\d", "20"), (r"\d+", "1"), (r"\d", "2"),
                     ("[^/]+", "x"), (r"\.", "."), ("(static/)?", "")]:  # fmt: skip
        text = text.replace(old, new)
    text = re.sub(r"\((\w[\w-]*)\|[^)]*\)", r"\1", text)  # (en|es|uk) -> en
    if re.search(r"[\\()\[\]{}|?*+^$]", text):
        return None
    return text if text.startswith("/") else "/" + text


def _variants(line: int, origin: str, path: str) -> list[Request]:
    """The requests for one source line: path, more path, the trailing slash toggled, a
    query, a near miss; and a POST."""
    base = origin + path
    more = base + ("more" if path.endswith("/") else "/more")
    miss = base[:-1] + ("z" if not base.endswith("z") else "y") if len(path) > 1 else base + "zz"
    toggled = base[:-1] if base.endswith("/") else base + "/"
    return [
        Request(line, "GET", base),
        Request(line, "GET", more),
        *([Request(line, "GET", toggled)] if len(path) > 1 else []),
        Request(line, "GET", base + ("&" if "?" in base else "?") + "q=1"),
        Request(line, "GET", miss),
        Request(line, "POST", base),
    ]


def netlify_requests(text: str) -> list[Request]:
    """Requests for each rule line of a ``_redirects`` file."""
    out: list[Request] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].strip()
        if not line:
            continue
        origin_path = line.split()[0]
        found = re.match(r"(https?://[^/]+)(/.*)?\Z", origin_path)
        origin, path = (found.group(1), found.group(2) or "/") if found else (
            "https://example.com", origin_path)  # fmt: skip
        out += _variants(number, origin, _fill_template(path))
    return out


def vercel_requests(text: str) -> list[Request]:
    """Requests for each redirect of a ``vercel.json`` (and its ``trailingSlash``)."""
    from redirectware.tools.importing.vercel import _entry_lines

    lines, top = _entry_lines(text)
    data = json.loads(text)
    out: list[Request] = []
    if "cleanUrls" in top:
        out += _variants(top["cleanUrls"], "https://example.com", "/some/page.html")
        out += _variants(top["cleanUrls"], "https://example.com", "/some/index")
    if "trailingSlash" in top:
        out += _variants(top["trailingSlash"], "https://example.com", "/some/page/")
    for index, entry in enumerate(data.get("redirects", [])):
        out += _variants(lines[index], "https://example.com", _fill_template(entry["source"]))
    return out


def nginx_requests(text: str) -> list[Request]:
    """Requests for each redirecting directive of an nginx file, on each server's names and
    schemes (the scheme of its listens: TLS, plain, or both)."""
    from redirectware.tools.importing.nginx import Directive, parse_config

    tree, _ = parse_config(text)
    out: list[Request] = []

    def walk(directives: list[Directive], hosts: list[str], schemes: list[str],
             prefix: str | None) -> None:  # fmt: skip
        for directive in directives:
            if directive.name == "location" and directive.args:
                literal = None if directive.args[0] in ("~", "~*") else directive.args[-1]
                walk(directive.children or [], hosts, schemes, literal)
                continue
            if directive.name in ("return", "rewrite"):
                path: str | None
                if directive.name == "rewrite" and directive.args and directive.args[0] != "^":
                    path = _fill_regex(directive.args[0])
                else:
                    path = "/some/page" if prefix is None else prefix
                if path is None:
                    continue
                for host in hosts:
                    for scheme in schemes:
                        out.extend(_variants(directive.line, f"{scheme}://{host}", path or "/"))

    for server in (d for d in tree if d.name == "server"):
        children = server.children or []
        names = [n for d in children if d.name == "server_name" for n in d.args if n != "_"]
        listens = [d.args for d in children if d.name == "listen"]
        tls = {("ssl" in a) for a in listens}
        schemes = sorted({"https" if t else "http" for t in tls}) or ["http"]
        walk(children, names or ["localhost"], schemes, None)
    return out


def apache_requests(text: str) -> list[Request]:
    """Requests for each redirecting line of an ``.htaccess``: its pattern filled, on
    ``example.com`` and ``www.example.com`` (host conditions), over http."""
    out: list[Request] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        name = words[0].lower()
        path: str | None = None
        if name in ("redirect", "redirectpermanent", "redirecttemp") and len(words) >= 3:
            path = words[2] if words[1].lower() in ("permanent", "temp", "gone", "seeother") \
                or words[1].isdigit() else words[1]  # fmt: skip
        elif name in ("redirectmatch", "rewriterule") and len(words) >= 3:
            pattern = words[2] if name == "redirectmatch" and words[1].isdigit() else words[1]
            path = "/some/page" if pattern in ("^", ".*") else _fill_regex(pattern)
            if name == "rewriterule" and pattern == "^(.*)/$":
                path = "/some/page/"
        if path is None:
            continue
        for host in ("example.com", "www.example.com"):
            out += _variants(number, f"http://{host}", path)
    return out


REQUESTS = {
    "netlify": netlify_requests,
    "vercel": vercel_requests,
    "nginx": nginx_requests,
    "apache": apache_requests,
}


def requests_for(fmt: str, path: Path) -> list[Request]:
    """The requests drawn from one corpus file."""
    return REQUESTS[fmt](path.read_text(encoding="utf-8"))


def answers_path(path: Path) -> Path:
    """Where the Node judge's answers for a Netlify or Vercel file are kept."""
    return path.with_name(path.name + ".answers.json")


# --- comparing ------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one file's comparison found."""

    compared: int = 0
    agreed: int = 0
    skipped_reported: int = 0
    no_judge: int = 0
    #: Requests where only Netlify's own trailing-slash matching explains the difference.
    slash: int = 0
    mismatches: list[str] | None = None


def _absolute(location: str, url: str) -> str:
    """A Location made absolute, an empty path written ``/`` (the same URL, RFC 3986
    section 6.2.3)."""
    from urllib.parse import urljoin, urlsplit

    joined = urljoin(url, location)
    return joined.replace("#", "/#", 1) if not urlsplit(joined).path and "#" in joined else (
        joined + "/" if not urlsplit(joined).path and "?" not in joined else joined)  # fmt: skip


def _without_port(url: str) -> str:
    """A URL with the port of its authority dropped: the servers run on test ports."""
    return re.sub(r"^(https?://[^/:]+):\d+", r"\1", url)


def ours(ruleset: Any, fmt: str, method: str, url: str) -> tuple[int | None, str | None]:
    """What the imported document answers: (status, absolute Location) or (None, None) for a
    pass. For Netlify, as after the app's 404 (the judge's site has no files)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    decision = ruleset.resolve(method, parts.scheme, parts.netloc, parts.path or "/", parts.query)
    if decision.passes and fmt == "netlify":
        decision = ruleset.resolve_not_found(
            method, parts.scheme, parts.netloc, parts.path or "/", parts.query
        )
    if decision.passes:
        return None, None
    return decision.status, decision.location


def compare(
    fmt: str,
    ruleset: Any,
    reported: set[int],
    requests: list[Request],
    answers: list[Any],
    froms: dict[int, str] | None = None,
) -> Tally:
    """Each request's answer from the source tool against the imported document's."""
    tally = Tally(mismatches=[])
    assert tally.mismatches is not None
    for request, answer in zip(requests, answers, strict=True):
        if request.line in reported:
            tally.skipped_reported += 1
            continue
        if answer is None:
            tally.no_judge += 1
            continue
        status, location = answer[0], answer[1]
        hops = answer[2] if len(answer) > 2 else 1
        got = ours(ruleset, fmt, request.method, request.url)
        if fmt == "nginx" and location and "#" in location:
            # nginx appends the query after a fragment (/a#b?q=1), where no server sees it;
            # redirectware drops it: the same page.
            location = re.sub(r"(#[^?]*)\?.*\Z", r"\1", location)
        if 300 <= status < 400 and location:
            want_status = status
            if request.method not in ("GET", "HEAD"):
                want_status = {301: 308, 302: 307}.get(status, status)
            want = _without_port(_absolute(location, request.url))
            same = got[1] is not None and _without_port(got[1]) == want
            if hops == 1:
                same = same and got[0] == want_status
            else:
                same = same and got[0] in (301, 302, 307, 308)
        elif status in (410, 451):
            want, same = "", got == (status, None)
        else:
            want, same = "", got == (None, None)
        tally.compared += 1
        if same:
            tally.agreed += 1
            continue
        if fmt == "netlify" and froms is not None and _slash_only(request, froms):
            tally.slash += 1
            continue
        tally.mismatches.append(
            f"line {request.line}: {request.method} {request.url}: source {status} {want}, "
            f"imported {got[0]} {got[1]}"
        )
    return tally


def _slash_only(request: Request, froms: dict[int, str]) -> bool:
    """Whether the request differs from its line's path only by a trailing slash or an
    empty splat: what Netlify matches and Cloudflare's matcher does not."""
    from urllib.parse import urlsplit

    path = urlsplit(request.url).path.rstrip("/")
    source = _fill_template(froms.get(request.line, "")).removesuffix("/a/b").rstrip("/")
    source = re.sub(r"^https?://[^/]+", "", source)
    return bool(source) and path == source


def netlify_froms(text: str) -> dict[int, str]:
    """Each rule line's ``from``."""
    out = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].strip()
        if line:
            out[number] = line.split()[0]
    return out


def follow(ask: Any, method: str, url: str) -> list[Any]:
    """A live server's answer to ``url``, a chain on the same site followed to its end:
    ``[status, Location]``, or ``[first status, last Location, hops]`` for a redirect.
    ``ask(method, url)`` sends one request and gives (status, Location)."""
    from urllib.parse import urljoin, urlsplit

    def site(address: str) -> str:
        # The host alone: redirectware follows a chain on to another scheme of the same host
        # (http to https), as the engine serves both.
        return urlsplit(address).hostname or ""

    status, location = ask(method, url)
    if not 300 <= status < 400 or not location:
        return [status, location]
    hops, current = 1, urljoin(url, location)
    while hops < 10 and site(current) == site(url):
        again, where = ask("GET", current)
        if not 300 <= again < 400 or not where:
            break
        location, current, hops = where, urljoin(current, where), hops + 1
    return [status, location, hops]
