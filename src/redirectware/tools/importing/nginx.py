"""nginx's ``return``, ``rewrite ... permanent|redirect``, ``location = /x``,
``location ^~ /prefix/``, ``location ~ regex``, ``map`` with ``if ($var) { return 301 $var; }``,
and the usual ``if ($scheme = http) { return 301 https://$host$request_uri; }``.

nginx's semantics, as translated:

* server-level ``return``/``rewrite`` run first, in order; then **one location** answers,
  chosen as nginx does: an exact ``location = /x``; else the longest prefix if it is
  ``^~``; else the first regex location (``~``, ``~*``) that matches; else the longest
  prefix. The rules are written in that order, and a location that serves content takes its
  paths from a redirecting one that nginx would try after it (an ``except``: a longer prefix
  from a shorter one, an exact or ``^~`` location from a regex one). A redirecting regex or
  plain prefix location that a regex location serving content may come before is reported;
* a regex (a ``location ~``, a ``rewrite`` that a path template cannot say, a map's ``~``
  key) becomes a ``from_regex``, run on RE2: the regex is searched in the path as nginx does
  (a pattern without ``^`` or ``$`` matches anywhere), ``~*`` is ``case_sensitive: false``,
  each capture a named group (``$1`` is ``{p1}``, ``(?<year>...)`` is ``{year}``). A regex
  RE2 cannot run (back-references, look-around: PCRE-only) is reported with RE2's reason;
* ``return`` drops the request's query unless the URL carries it (``$request_uri``,
  ``$is_args$args``); ``rewrite`` keeps it (joined with ``&``, as redirectware does) unless
  the replacement ends with ``?``. ``permanent`` is 301, ``redirect`` 302; a rewrite without
  either is internal (reported) unless its replacement is an absolute URL (302);
  ``return 410`` is ``gone: true`` and ``return 451`` ``gone: 451``;
* ``$scheme``, ``$host``, ``$request_uri`` and ``$uri`` in a URL become ``{scheme}``,
  ``{host}``, ``{path}`` (with the query) and ``{path}``; other variables are reported;
* ``map`` string keys become a ``map`` rule's rows with ``case_sensitive: false``: nginx
  compares them without case (``/OLD`` hits ``/old``). Regex keys (``~``, ``~*``) become
  ``from_regex`` rules after the map, in order, as nginx tries them after the strings;
  ``hostnames`` and ``include`` are reported;
* ``server_name`` gives each rule of the server its ``host`` (one rule per name); ``_`` or
  none gives no host condition; where one name has a TLS-only server and a plain-HTTP-only
  one, their rules get ``scheme: https`` and ``scheme: http``; other ``if`` blocks are
  reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from redirectware.engine.regex import literal_prefix

from .patterns import RegexPath, regex_path, regex_template, substitute
from .result import Imported, ImportResult, absolute, fill, test_entry

SAMPLE_HOST = "example.com"
_REDIRECT_CODES = (301, 302, 303, 307, 308)
_KEPT = (301, 302, 307, 308)
_GONE_CODES = (410, 451)


@dataclass
class Directive:
    """One nginx directive: name, arguments, line, and its block's directives if any."""

    name: str
    args: list[str]
    line: int
    children: list[Directive] | None = None
    text: str = ""


def _tokens(text: str) -> list[tuple[str, int, bool]]:
    out: list[tuple[str, int, bool]] = []
    line, index, length = 1, 0, len(text)
    while index < length:
        char = text[index]
        if char == "\n":
            line += 1
            index += 1
        elif char.isspace():
            index += 1
        elif char == "#":
            while index < length and text[index] != "\n":
                index += 1
        elif char in "{};":
            out.append((char, line, False))
            index += 1
        elif char in "\"'":
            end = index + 1
            while end < length and text[end] != char:
                end += 2 if text[end] == "\\" else 1
            out.append((text[index + 1 : end].replace("\\" + char, char), line, True))
            line += text[index:end].count("\n")
            index = end + 1
        else:
            end = index
            while end < length and not text[end].isspace() and text[end] not in "{};":
                end += 1
            out.append((text[index:end], line, False))
            index = end
    return out


@dataclass(frozen=True)
class ParseError:
    """Where the configuration cannot be read as nginx reads it, and why."""

    line: int
    text: str
    why: str


def parse_config(text: str) -> tuple[list[Directive], list[ParseError]]:
    """The directives of a configuration, blocks nested, and what nginx would refuse to read
    (an unquoted ``{`` in a regex, a missing ``;`` or ``}``): each with its line, so that no
    directive in a part the parser could not read is dropped without a word."""
    lines = text.splitlines()

    def shown(line: int) -> str:
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    stack: list[list[Directive]] = [[]]
    opened: list[int] = []  # the line of each open block
    errors: list[ParseError] = []
    current: list[str] = []
    start = 0
    for token, line, quoted in _tokens(text):
        if token in ";{" and not quoted:
            if current:
                directive = Directive(current[0], current[1:], start, text=shown(start))
                stack[-1].append(directive)
                if token == "{":
                    directive.children = []
                    stack.append(directive.children)
                    opened.append(start)
            else:
                errors.append(ParseError(line, shown(line), f"nginx cannot read this: an "
                                         f"unexpected '{token}'"))  # fmt: skip
            current = []
        elif token == "}" and not quoted:
            if current:
                errors.append(ParseError(start, shown(start), "nginx cannot read this: a "
                                         "directive without ';' before '}' (a regex with '{' "
                                         "must be quoted)"))  # fmt: skip
            if len(stack) > 1:
                stack.pop()
                opened.pop()
            else:
                errors.append(ParseError(line, shown(line), "nginx cannot read this: an "
                                         "unexpected '}'"))  # fmt: skip
            current = []
        else:
            if not current:
                start = line
            current.append(token)
    if current:
        errors.append(ParseError(start, shown(start), "nginx cannot read this: a directive "
                                 "without ';' at the end of the file"))  # fmt: skip
    for line in opened:
        errors.append(ParseError(line, shown(line), "nginx cannot read this: a block that "
                                 "is never closed with '}'"))  # fmt: skip
    return stack[0], errors


_VARIABLES = {"$scheme": "{scheme}", "$host": "{host}", "$request_uri": "{path}", "$uri": "{path}"}


def _url(url: str) -> tuple[str, bool]:
    """A ``return`` URL as a target, and whether the request's query is kept; ValueError."""
    keep = False
    for tail in ("$is_args$args", "?$args", "?$query_string", "$is_args$query_string"):
        if url.endswith(tail):
            url, keep = url[: -len(tail)], True
    if "$request_uri" in url:
        keep = True
    for name in sorted(_VARIABLES, key=len, reverse=True):
        url = url.replace("${" + name[1:] + "}", _VARIABLES[name]).replace(name, _VARIABLES[name])
    left = re.findall(r"\$[A-Za-z_0-9]+", url)
    if left:
        raise ValueError(f"the variable {left[0]} in the URL is not translated")
    return url, keep


def _names(server: Directive) -> list[str]:
    """A server's names, lower case."""
    return [n.lower() for d in server.children or [] if d.name == "server_name" for n in d.args]


def _listen_kind(server: Directive) -> str | None:
    """``https`` when every ``listen`` of a server is TLS (``ssl``, port 443), ``http`` when
    none is, else None (both, or no listen)."""
    listens = [d.args for d in server.children or [] if d.name == "listen" and d.args]
    tls = [("ssl" in args or args[0].rsplit(":", 1)[-1] == "443") for args in listens]
    if listens and all(tls):
        return "https"
    if listens and not any(tls):
        return "http"
    return None


def _code(directive: Directive) -> int | None:
    """The status code of a ``return`` (302 for a bare URL), or None if it has none."""
    args = directive.args
    if len(args) == 1 and args[0].startswith(("http://", "https://", "$scheme")):
        return 302
    return int(args[0]) if args and args[0].isdigit() else None


def _redirects(directive: Directive) -> bool:
    """Whether a ``return`` redirects or says a page is gone (what an importer translates)."""
    code = _code(directive)
    return code is not None and (code in _REDIRECT_CODES or code in _GONE_CODES)


def _not_a_redirect(directive: Directive) -> str:
    code = _code(directive)
    return (
        f"return {code if code is not None else ' '.join(directive.args)} is not a "
        "redirect: nginx answers the request itself (the app behind redirectware answers "
        "such paths)"
    )


@dataclass(frozen=True)
class _Path:
    """Where a rule matches: a ``from`` template, a ``from_regex``, or any path (both None)."""

    template: str | None
    regex: RegexPath | None = None
    case_sensitive: bool = True


@dataclass
class _Location:
    modifier: str
    path: str
    directive: Directive
    redirect: bool = False
    items: list[Imported] = field(default_factory=list)
    #: A regex location's regex as a ``from_regex``; None when RE2 cannot run it.
    regex: RegexPath | None = None
    #: Whether it holds a return or rewrite at all (translated or not): else it serves.
    redirects: bool = False


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.result = ImportResult("nginx", source)
        self.maps: dict[str, Directive] = {}
        #: Every return and rewrite translated or reported: the rest are reported at the end.
        self.handled: set[int] = set()
        tree, errors = parse_config(text)
        for error in errors:
            self.result.lose(error.line, error.text, error.why)
        self.walk(tree)
        servers = [d for d in self.all(tree) if d.name == "server"]
        self.servers = servers
        if servers:
            for server in servers:
                self.server(server)
        else:
            # A server-level include: the file's directives are one server's.
            self.server(Directive("server", [], 1, tree))
        self.unread(tree, errors)

    def unread(self, tree: list[Directive], errors: list[ParseError]) -> None:
        """Report each return and rewrite that no step above translated or reported: in a
        block the importer does not read (``limit_except``, a misread regex's block)."""
        broken = {error.line for error in errors}
        for directive in self.everywhere(tree):
            if directive.name in ("return", "rewrite") and id(directive) not in self.handled:
                why = (
                    "in a part of the file nginx cannot read (see the error above)"
                    if broken
                    else "in a block whose directives are not translated"
                )
                self.lose(directive, why)

    def everywhere(self, directives: list[Directive]) -> list[Directive]:
        """Every directive, at any depth."""
        found: list[Directive] = []
        for directive in directives:
            found.append(directive)
            found += self.everywhere(directive.children or [])
        return found

    def all(self, directives: list[Directive]) -> list[Directive]:
        found: list[Directive] = []
        for directive in directives:
            found.append(directive)
            if directive.children is not None and directive.name != "server":
                found += self.all(directive.children)
        return found

    def walk(self, directives: list[Directive]) -> None:
        for directive in self.all(directives):
            if directive.name == "map" and len(directive.args) == 2:
                self.maps[directive.args[1]] = directive

    def lose(self, directive: Directive, why: str) -> None:
        self.handled.add(id(directive))
        self.result.lose(directive.line, directive.text or directive.name, why)

    # --- a server ---------------------------------------------------------------------------

    def server(self, server: Directive) -> None:
        children = server.children or []
        names = [n.lower() for d in children if d.name == "server_name" for n in d.args]
        self.hosts: list[str | None] = [n for n in names if n not in ("_", "")] or [None]
        # Two servers of one name, one listening on TLS only and one on plain HTTP only (the
        # usual "port 80 sends everything to https" pair): each answers its own scheme, so
        # their rules say which. A lone server gets no scheme condition: behind a proxy that
        # ends TLS, nginx on port 80 answers what redirectware sees as https.
        kind = _listen_kind(server)
        self.scheme: str | None = None
        if kind is not None and any(
            _listen_kind(other) not in (None, kind) and set(_names(other)) & set(_names(server))
            for other in self.servers
        ):
            self.scheme = kind
        for directive in children:
            if directive.name in ("return", "rewrite"):
                self.redirect(directive, None)
            elif directive.name == "if":
                self.if_block(directive)
        locations: list[_Location] = []
        for directive in children:
            if directive.name == "location":
                locations += self.locations(directive)
        regexes = [loc for loc in locations if loc.modifier in ("~", "~*")]
        exact = [loc for loc in locations if loc.modifier == "="]
        prefixes = sorted((loc for loc in locations if loc.modifier in ("", "^~")),
                          key=lambda loc: len(loc.path), reverse=True)  # fmt: skip
        caret = [loc for loc in prefixes if loc.modifier == "^~"]
        plain = [loc for loc in prefixes if loc.modifier == ""]
        # nginx: an exact location; else the longest prefix, if it is ^~; else the first
        # regex that matches; else the longest prefix.
        for loc in exact + caret:
            self.emit(loc, self.longer_serving(loc, locations))
        serving_regex: _Location | None = None
        for loc in regexes:
            if not loc.redirects:
                serving_regex = serving_regex or loc
                continue
            if serving_regex is not None:
                self.lose(loc.directive, f"the regex location on line "
                          f"{serving_regex.directive.line} serves content and comes first: "
                          "nginx takes the first regex location that matches")  # fmt: skip
                continue
            # Exact and ^~ locations that serve content take their paths first.
            self.emit(loc, [self.except_of(other) for other in exact + caret if not other.redirect])
        # A regex location that serves content, or whose redirect is not translated, takes
        # its requests before any plain prefix location.
        blocker = next((loc for loc in regexes if not loc.redirect), None)
        for loc in plain:
            if not loc.redirect:
                continue
            if blocker is not None:
                what = "serves content" if not blocker.redirects else "is not translated"
                self.lose(
                    loc.directive,
                    f"the regex location on line {blocker.directive.line} {what}, and nginx "
                    "tries regex locations before a plain prefix location: write this one as "
                    "location ^~ to translate it",
                )
                continue
            self.emit(loc, self.longer_serving(loc, locations))

    def longer_serving(self, loc: _Location, locations: list[_Location]) -> list[str]:
        """The longer prefix locations that serve content: they take their paths from
        ``loc`` (excepts of its rules)."""
        if loc.modifier == "=":
            return []
        return [
            self.except_of(other)
            for other in locations
            if other is not loc
            and not other.redirect
            and other.modifier in ("=", "", "^~")
            and other.path.startswith(loc.path)
            and len(other.path) > len(loc.path)
        ]

    def emit(self, loc: _Location, excepts: list[str]) -> None:
        """The items of a redirecting location, in the order nginx would choose it."""
        if not loc.redirect:
            return
        for item in loc.items:
            for rule in item.rules:
                if excepts:
                    rule["except"] = excepts
            self.result.items.append(item)

    def except_of(self, location: _Location) -> str:
        return location.path if location.modifier == "=" else location.path + "{x:path}"

    def locations(self, directive: Directive, outer: _Location | None = None) -> list[_Location]:
        """A location and the locations nested in it, as one list.

        nginx looks for a nested location only inside the prefix location it chose, among
        paths that start with that prefix: a nested exact or prefix location is the longer
        match there, which is what it is in one flat list too. A prefix location nested in
        a ``^~`` one stops the regex search as its outer one does, so it counts as ``^~``.
        A regex location nested in another is searched only after the outer one is chosen,
        before the server's regexes: not said by a flat list, so reported."""
        loc = self.location(directive)
        if outer is not None and outer.modifier == "^~" and loc.modifier == "":
            loc.modifier = "^~"
        found = [loc]
        for child in directive.children or []:
            if child.name != "location":
                continue
            # The nested one's modifier, read before anything in it is translated.
            args = child.args
            modifier = args[0] if len(args) == 2 else ""
            if args and args[-1].startswith("@"):
                modifier = "@"
            if loc.modifier in ("~", "~*", "=", "@") or modifier in ("~", "~*", "@"):
                for inner in self.everywhere(child.children or []):
                    if inner.name in ("return", "rewrite") and id(inner) not in self.handled:
                        self.lose(inner, f"in a location nested in location {loc.path} "
                                  f"(line {loc.directive.line}) that is not translated: only "
                                  "exact and prefix locations inside a prefix one are")  # fmt: skip
                continue
            found += self.locations(child, loc)
        return found

    def location(self, directive: Directive) -> _Location:
        args = directive.args
        modifier, path = (args[0], args[1]) if len(args) == 2 else ("", args[0] if args else "")
        if path.startswith("@"):
            modifier = "@"
        loc = _Location(modifier, path, directive)
        why = None
        if modifier == "@":
            why = "in a named location (@), which only an internal redirect reaches"
        elif modifier in ("~", "~*"):
            try:
                loc.regex = regex_path(path, case_sensitive=modifier == "~")
            except ValueError as error:
                why = f"the location's regex: {error}"
            except ImportError as error:  # RE2 is not installed
                why = str(error)
        for child in directive.children or []:
            if child.name == "if":
                # An if inside a location runs only for its condition: the location serves
                # content otherwise, and what the if does is not translated.
                for inner in child.children or []:
                    if inner.name in ("return", "rewrite"):
                        loc.redirects = True
                        condition = " ".join(child.args).strip("()").strip()
                        self.lose(inner, f"inside an if ({condition}) in location {path}: "
                                  "not translated")  # fmt: skip
                continue
            if child.name == "return" and not _redirects(child):
                self.lose(child, _not_a_redirect(child))
                break  # nothing after a return runs; the location answers itself
            if child.name in ("return", "rewrite"):
                loc.redirects = True
                if why is not None:
                    self.lose(child, why)
                    continue
                if loc.regex is not None and child.name == "rewrite":
                    self.lose(child, "a rewrite inside a regex location (two regexes on one "
                              "request) is not translated")  # fmt: skip
                    continue
                items = self.redirect(child, loc, defer=True)
                if items:
                    loc.redirect = True
                    loc.items += items
                if child.name == "return":
                    break  # nothing after a return runs
        return loc

    # --- if -------------------------------------------------------------------------------

    def if_block(self, directive: Directive) -> None:
        condition = " ".join(directive.args).strip("()").strip()
        body = [d for d in directive.children or [] if d.name in ("return", "rewrite")]
        https = re.fullmatch(r"\$scheme\s*(=\s*\"?http\"?|!=\s*\"?https\"?)", condition)
        # The tokenizer has already taken the quotes off: ($x != "") reads "$x !=".
        variable = re.fullmatch(r"(\$[A-Za-z_0-9]+)(\s*!=\s*(\"\"|'')?)?", condition)
        if https and len(body) == 1 and body[0].name == "return":
            self.redirect(body[0], None, scheme="http")
            return
        if variable and len(body) == 1 and body[0].name == "return":
            name = variable.group(1)
            args = body[0].args
            if name in self.maps and len(args) == 2 and args[1] == name:
                self.map_rule(self.maps[name], body[0])
                return
        for child in body or [directive]:
            self.lose(child, f"inside an if ({condition}) that is not translated")

    # --- return and rewrite -----------------------------------------------------------------

    def redirect(self, directive: Directive, loc: _Location | None, defer: bool = False,
                 scheme: str | None = None) -> list[Imported]:  # fmt: skip
        try:
            if directive.name == "return":
                items = self.return_(directive, loc, scheme)
            else:
                items = self.rewrite(directive, loc, scheme)
        except (ValueError, ImportError) as error:  # ImportError: RE2 is not installed
            self.lose(directive, str(error))
            return []
        if not defer:
            self.result.items += items
        return items

    def _path_of(self, loc: _Location | None) -> _Path:
        if loc is None:
            return _Path(None)
        if loc.regex is not None:
            return _Path(None, loc.regex, loc.modifier == "~")
        if loc.modifier == "=":
            return _Path(loc.path)
        return _Path(loc.path + "{rest:path}")

    def return_(self, directive: Directive, loc: _Location | None,
                scheme: str | None) -> list[Imported]:  # fmt: skip
        args = directive.args
        if len(args) == 1 and args[0].startswith(("http://", "https://", "$scheme")):
            code, url = 302, args[0]
        elif len(args) == 2 and args[0].isdigit():
            code, url = int(args[0]), args[1]
        else:
            code, url = (int(args[0]) if args and args[0].isdigit() else 0), ""
        path = self._path_of(loc)
        if code in _GONE_CODES:
            return [self.item(directive, path, None, code, False, scheme)]
        if code not in _REDIRECT_CODES:
            raise ValueError(_not_a_redirect(directive))
        if code not in _KEPT:
            raise ValueError("redirectware never sends 303")
        if path.regex is not None:
            url = path.regex.target(url)
        target, keep = _url(url)
        return [self.item(directive, path, target, code, keep, scheme)]

    def rewrite(self, directive: Directive, loc: _Location | None,
                scheme: str | None) -> list[Imported]:  # fmt: skip
        args = directive.args
        if len(args) < 2:
            raise ValueError("expected rewrite regex replacement [flag]")
        regex, replacement = args[0], args[1]
        flag = args[2] if len(args) > 2 else ""
        absolute_url = replacement.startswith(("http://", "https://", "$scheme"))
        if flag not in ("permanent", "redirect") and not absolute_url:
            raise ValueError("an internal rewrite (the client's URL does not change)")
        code = 301 if flag == "permanent" else 302
        # nginx appends the request's arguments after the whole replacement: after a
        # fragment (/a#b?q=1) they are part of it and never reach the server, so the query
        # is dropped (the Location's fragment then lacks "?q=1": a note says so).
        keep = not replacement.endswith("?") and "#" not in replacement
        if "#" in replacement and not replacement.endswith("?"):
            self.result.notes.append(
                f"{self.result.source}:{directive.line}: nginx appends the request's query after "
                "the fragment of the replacement, where the server never sees it: the query "
                "is dropped (keep_query: false)"
            )
        replacement = replacement.rstrip("?")
        if regex in ("^", ".*", "^.*", "^.*$") and not re.search(r"\$\d", replacement):
            # A regex that every path matches: the rewrite applies wherever it runs (the
            # server, or its location), capturing nothing.
            target, _ = _url(replacement)
            return [self.item(directive, self._path_of(loc), target, code, keep, scheme)]
        try:
            template, names = regex_template(regex)
        except ValueError:
            pattern = regex_path(regex)
            path = _Path(None, pattern)
            if (
                loc is not None
                and loc.modifier != "="
                and not literal_prefix(pattern.pattern).startswith(loc.path)
            ):
                raise ValueError(f"a rewrite in location {loc.path} whose regex reaches "
                                 "outside it") from None  # fmt: skip
            target, _ = _url(pattern.target(replacement))
            return [self.item(directive, path, target, code, keep, scheme)]
        if loc is not None and loc.modifier != "=" and not template.startswith(loc.path):
            raise ValueError(f"a rewrite in location {loc.path} whose regex reaches outside it")
        target, _ = _url(substitute(replacement, names))
        return [self.item(directive, _Path(template), target, code, keep, scheme)]

    def item(self, directive: Directive, path: _Path, target: str | None, code: int,
             keep: bool, scheme: str | None) -> Imported:  # fmt: skip
        """One source line's rules (one per server name) and tests; ``target`` None for
        ``gone`` (``code`` 410 or 451)."""
        scheme = scheme or self.scheme
        self.handled.add(id(directive))
        rules: list[dict[str, Any]] = []
        tests: list[dict[str, Any]] = []
        for host in self.hosts:
            rule: dict[str, Any] = {"name": f"nginx-{directive.line}"}
            if host is not None:
                rule["host"] = host
                if len(self.hosts) > 1:
                    rule["name"] += "-" + host
            if scheme:
                rule["scheme"] = scheme
            if path.template is not None:
                rule["from"] = path.template
            if path.regex is not None:
                rule["from_regex"] = path.regex.pattern
                if not path.case_sensitive:
                    rule["case_sensitive"] = False
            if target is None:
                rule["gone"] = True if code == 410 else code
            else:
                rule.update({"to": target, "status": code})
                if not keep:
                    rule["keep_query"] = False
            rules.append(rule)
            sample, values = (None, {}) if path.regex is not None else fill(
                path.template or "/sample")  # fmt: skip
            if sample is None:
                continue  # no sample of a regex: the round-trip tests pin these
            origin_host, origin_scheme = host or SAMPLE_HOST, scheme or "http"
            url = f"{origin_scheme}://{origin_host}{sample}"
            if target is None:
                tests.append(test_entry("GET", url, code, None))
                continue
            location = target.replace("{scheme}", origin_scheme).replace("{host}", origin_host)
            location = location.replace("{path}", sample)
            for name, value in values.items():
                location = location.replace("{" + name + "}", value)
            tests.append(test_entry("GET", url, code, absolute(location, origin_scheme,
                                                               origin_host)))  # fmt: skip
        return Imported(self.result.source, directive.line, directive.text, rules, tests)

    # --- map --------------------------------------------------------------------------------

    def map_rule(self, block: Directive, ret: Directive) -> None:
        self.handled.add(id(ret))
        source_var = block.args[0]
        if source_var not in ("$uri", "$request_uri"):
            self.lose(block, f"a map on {source_var} (only $uri and $request_uri translate)")
            return
        code = int(ret.args[0])
        if code not in _KEPT:
            self.lose(ret, f"return {code} is not a redirect redirectware sends")
            return
        if len(self.hosts) > 1:
            self.lose(ret, "a map used by a server with several server_name values")
            return
        host = self.hosts[0]
        rows: list[dict[str, Any]] = []
        tests: list[dict[str, Any]] = []
        regex_items: list[Imported] = []
        seen: dict[str, int] = {}
        for entry in block.children or []:
            key = entry.name
            if key in ("default", "volatile") or (key == "hostnames"):
                if key == "hostnames":
                    self.lose(entry, "a hostnames map is not translated")
                continue
            if key == "include":
                self.lose(entry, "an include in a map is not followed")
                continue
            if len(entry.args) != 1:
                self.lose(entry, "expected a key and one value")
                continue
            if key.startswith("~"):
                item = self.map_regex(entry, source_var, code)
                if item is not None:
                    regex_items.append(item)
                continue
            if "$" in entry.args[0]:
                self.lose(entry, "a value with a variable is not translated")
                continue
            if key.startswith("\\"):
                key = key[1:]
            if not key.startswith("/"):
                self.result.notes.append(
                    f"{self.result.source}:{entry.line}: map key {key!r} never matches "
                    f"{source_var}, which starts with '/': left out, as nginx never used it"
                )
                continue
            folded = key.lower()
            if folded in seen:
                # nginx compares string keys without case: the first of two keys equal
                # but for case is the one it keeps.
                self.result.notes.append(
                    f"{self.result.source}:{entry.line}: map key {key!r} is the key on line "
                    f"{seen[folded]} but for case: nginx compares keys without case, so that "
                    "one answers (left out of the map)"
                )
                continue
            seen[folded] = entry.line
            rows.append({"from": key, "to": entry.args[0]})
            origin = host or SAMPLE_HOST
            scheme = self.scheme or "http"
            location = absolute(entry.args[0], scheme, origin)
            tests.append(test_entry("GET", f"{scheme}://{origin}{key}", code, location))
            if key.lower() != key.upper():
                # nginx's string keys match without case: pin the other case too.
                tests.append(test_entry("GET", f"{scheme}://{origin}{key.swapcase()}", code,
                                        location))  # fmt: skip
        if rows:
            rule: dict[str, Any] = {"name": f"nginx-map-{block.line}"}
            if host is not None:
                rule["host"] = host
            if self.scheme is not None:
                rule["scheme"] = self.scheme
            rule.update({"map": rows, "status": code, "keep_query": False,
                         "case_sensitive": False})  # fmt: skip
            self.result.items.append(
                Imported(self.result.source, block.line, block.text, [rule], tests)
            )
        # nginx tries the string keys first, then the regex keys in order.
        self.result.items += regex_items

    def map_regex(self, entry: Directive, source_var: str, code: int) -> Imported | None:
        """A ``~regex`` (``~*``: without case) key of a map as a ``from_regex`` rule."""
        if source_var != "$uri":
            self.lose(entry, f"a regex key on {source_var}, which holds the query too, is not "
                      "translated")  # fmt: skip
            return None
        insensitive = entry.name.startswith("~*")
        regex = entry.name[2 if insensitive else 1 :]
        try:
            pattern = regex_path(regex, case_sensitive=not insensitive)
            target, _ = _url(pattern.target(entry.args[0]))
        except ValueError as error:
            self.lose(entry, f"the key's regex: {error}")
            return None
        except ImportError as error:  # RE2 is not installed
            self.lose(entry, str(error))
            return None
        return self.item(entry, _Path(None, pattern, not insensitive), target, code, False, None)


def parse(text: str, source: str) -> ImportResult:
    """An nginx configuration: a whole file, or a server-level include."""
    return _Reader(text, source).result
