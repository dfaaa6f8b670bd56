"""nginx's ``return``, ``rewrite ... permanent|redirect``, ``location = /x``,
``location ^~ /prefix/``, ``map`` with ``if ($var) { return 301 $var; }``, and the usual
``if ($scheme = http) { return 301 https://$host$request_uri; }``.

nginx's semantics, as translated:

* server-level ``return``/``rewrite`` run first, in order; then **one location** answers,
  chosen as nginx does: an exact ``location = /x``, else the longest prefix. The rules are
  written in that order (exact, then prefixes longest first), and a longer prefix location
  that does not redirect (``location /old/keep/ { proxy_pass ...; }``) becomes an ``except``
  of the shorter one that does. Where the server has regex locations (``~``), a plain prefix
  redirect is reported: nginx would try those regexes first;
* ``return`` drops the request's query unless the URL carries it (``$request_uri``,
  ``$is_args$args``); ``rewrite`` keeps it (joined with ``&``, as redirectware does) unless
  the replacement ends with ``?``. ``permanent`` is 301, ``redirect`` 302; a rewrite without
  either is internal (reported) unless its replacement is an absolute URL (302);
* ``$scheme``, ``$host``, ``$request_uri`` and ``$uri`` in a URL become ``{scheme}``,
  ``{host}``, ``{path}`` (with the query) and ``{path}``; other variables are reported;
* ``map`` string keys become a ``map`` rule's rows. nginx compares them **without case**
  (``/OLD`` hits ``/old``); redirectware matches the case written until issue 15's
  ``case_sensitive: false``, so each map is also reported (the rows are translated, the
  case-folding is not). Regex keys (``~``, ``~*``) and ``hostnames`` are reported;
* ``server_name`` gives each rule of the server its ``host`` (one rule per name); ``_`` or
  none gives no host condition; other ``if`` blocks are reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .patterns import regex_template, substitute
from .result import Imported, ImportResult, absolute, fill, test_entry

SAMPLE_HOST = "example.com"
_REDIRECT_CODES = (301, 302, 303, 307, 308)
_KEPT = (301, 302, 307, 308)


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


def parse_config(text: str) -> list[Directive]:
    """The directives of a configuration, blocks nested."""
    lines = text.splitlines()
    stack: list[list[Directive]] = [[]]
    current: list[str] = []
    start = 0
    for token, line, quoted in _tokens(text):
        if token in ";{" and not quoted:
            if current:
                directive = Directive(current[0], current[1:], start,
                                      text=lines[start - 1].strip())  # fmt: skip
                stack[-1].append(directive)
                if token == "{":
                    directive.children = []
                    stack.append(directive.children)
            current = []
        elif token == "}" and not quoted:
            if len(stack) > 1:
                stack.pop()
            current = []
        else:
            if not current:
                start = line
            current.append(token)
    return stack[0]


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


@dataclass
class _Location:
    modifier: str
    path: str
    directive: Directive
    redirect: bool = False
    items: list[Imported] = field(default_factory=list)


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.result = ImportResult("nginx", source)
        self.maps: dict[str, Directive] = {}
        tree = parse_config(text)
        self.walk(tree)
        servers = [d for d in self.all(tree) if d.name == "server"]
        if servers:
            for server in servers:
                self.server(server)
        else:
            # A server-level include: the file's directives are one server's.
            self.server(Directive("server", [], 1, tree))

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
        self.result.lose(directive.line, directive.text or directive.name, why)

    # --- a server ---------------------------------------------------------------------------

    def server(self, server: Directive) -> None:
        children = server.children or []
        names = [n.lower() for d in children if d.name == "server_name" for n in d.args]
        self.hosts: list[str | None] = [n for n in names if n not in ("_", "")] or [None]
        for directive in children:
            if directive.name in ("return", "rewrite"):
                self.redirect(directive, None)
            elif directive.name == "if":
                self.if_block(directive)
        locations = [self.location(d) for d in children if d.name == "location"]
        has_regex = any(loc.modifier in ("~", "~*") for loc in locations)
        exact = [loc for loc in locations if loc.modifier == "="]
        prefixes = sorted((loc for loc in locations if loc.modifier in ("", "^~")),
                          key=lambda loc: len(loc.path), reverse=True)  # fmt: skip
        for loc in exact + prefixes:
            if not loc.redirect:
                continue
            if has_regex and loc.modifier == "":
                self.lose(
                    loc.directive,
                    "nginx tries this server's regex locations before a plain prefix "
                    "location: write it as location ^~ to translate it",
                )
                continue
            # A longer location that serves content takes its paths from this one.
            excepts = [
                self.except_of(other)
                for other in locations
                if other is not loc
                and not other.redirect
                and other.modifier in ("=", "", "^~")
                and other.path.startswith(loc.path)
                and len(other.path) > len(loc.path)
            ]
            for item in loc.items:
                for rule in item.rules:
                    if excepts and loc.modifier != "=":
                        rule["except"] = excepts
                self.result.items.append(item)

    def except_of(self, location: _Location) -> str:
        return location.path if location.modifier == "=" else location.path + "{x:path}"

    def location(self, directive: Directive) -> _Location:
        args = directive.args
        modifier, path = (args[0], args[1]) if len(args) == 2 else ("", args[0] if args else "")
        loc = _Location(modifier, path, directive)
        for child in directive.children or []:
            if child.name in ("return", "rewrite"):
                if modifier in ("~", "~*", "@"):
                    self.lose(child, f"inside a location {modifier}: needs issue 15's from_regex")
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
        except ValueError as error:
            self.lose(directive, str(error))
            return []
        if not defer:
            self.result.items += items
        return items

    def _template_of(self, loc: _Location | None) -> str | None:
        if loc is None:
            return None
        if loc.modifier == "=":
            return loc.path
        return loc.path + "{rest:path}"

    def return_(self, directive: Directive, loc: _Location | None,
                scheme: str | None) -> list[Imported]:  # fmt: skip
        args = directive.args
        if len(args) == 1 and args[0].startswith(("http://", "https://", "$scheme")):
            code, url = 302, args[0]
        elif len(args) == 2 and args[0].isdigit():
            code, url = int(args[0]), args[1]
        else:
            code, url = (int(args[0]) if args and args[0].isdigit() else 0), ""
        if code not in _REDIRECT_CODES:
            if code in (410, 451):
                raise ValueError(f"return {code} needs issue 15's gone")
            return []  # not a redirect (a 200, a 404, a 444): not ours to translate
        if code not in _KEPT:
            raise ValueError("redirectware never sends 303")
        target, keep = _url(url)
        return [self.item(directive, self._template_of(loc), target, code, keep, scheme, [])]

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
        template, names = regex_template(regex)
        if loc is not None and loc.modifier != "=" and not template.startswith(loc.path):
            raise ValueError(f"a rewrite in location {loc.path} whose regex reaches outside it")
        keep = not replacement.endswith("?")
        target, _ = _url(substitute(replacement.rstrip("?"), names))
        return [self.item(directive, template, target, code, keep, scheme, names)]

    def item(self, directive: Directive, template: str | None, target: str, code: int,
             keep: bool, scheme: str | None, names: list[str]) -> Imported:  # fmt: skip
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
            if template is not None:
                rule["from"] = template
            rule.update({"to": target, "status": code})
            if not keep:
                rule["keep_query"] = False
            rules.append(rule)
            sample, values = fill(template or "/sample")
            origin_host, origin_scheme = host or SAMPLE_HOST, scheme or "http"
            location = target.replace("{scheme}", origin_scheme).replace("{host}", origin_host)
            location = location.replace("{path}", sample)
            for name, value in values.items():
                location = location.replace("{" + name + "}", value)
            url = f"{origin_scheme}://{origin_host}{sample}"
            tests.append(test_entry("GET", url, code, absolute(location, origin_scheme,
                                                               origin_host)))  # fmt: skip
        return Imported(self.result.source, directive.line, directive.text, rules, tests)

    # --- map --------------------------------------------------------------------------------

    def map_rule(self, block: Directive, ret: Directive) -> None:
        source_var = block.args[0]
        if source_var not in ("$uri", "$request_uri"):
            self.lose(block, f"a map on {source_var} (only $uri and $request_uri translate)")
            return
        code = int(ret.args[0])
        if code not in _KEPT:
            self.lose(ret, f"return {code} is not a redirect redirectware sends")
            return
        rows: list[dict[str, Any]] = []
        tests: list[dict[str, Any]] = []
        for entry in block.children or []:
            key = entry.name
            if key in ("default", "volatile") or (key == "hostnames"):
                if key == "hostnames":
                    self.lose(entry, "a hostnames map is not translated")
                continue
            if key.startswith("~") or key == "include":
                self.lose(entry, "a regex key needs issue 15's from_regex" if key != "include"
                          else "an include in a map is not followed")  # fmt: skip
                continue
            if len(entry.args) != 1 or "$" in entry.args[0]:
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
            if not key.startswith("/"):
                self.result.notes.append(
                    f"{self.result.source}:{entry.line}: map key {key!r} never matches "
                    f"{source_var}, which starts with '/': left out, as nginx never used it"
                )
                continue
            rows.append({"from": key, "to": entry.args[0]})
            host = self.hosts[0] or SAMPLE_HOST
            url = f"http://{host}{key}"
            tests.append(test_entry("GET", url, code, absolute(entry.args[0], "http", host)))
        if not rows:
            return
        if len(self.hosts) > 1:
            self.lose(ret, "a map used by a server with several server_name values")
            return
        rule: dict[str, Any] = {"name": f"nginx-map-{block.line}"}
        if self.hosts[0] is not None:
            rule["host"] = self.hosts[0]
        rule.update({"map": rows, "status": code, "keep_query": False})
        self.result.items.append(
            Imported(self.result.source, block.line, block.text, [rule], tests)
        )
        self.lose(block, "nginx compares map keys without case (/OLD hits /old); the rows are "
                  "translated, matching the case written (issue 15's case_sensitive: false "
                  "would say the rest)")  # fmt: skip


def parse(text: str, source: str) -> ImportResult:
    """An nginx configuration: a whole file, or a server-level include."""
    return _Reader(text, source).result
