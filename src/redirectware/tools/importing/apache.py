"""Apache's ``Redirect``, ``RedirectMatch``, ``RedirectPermanent``/``RedirectTemp`` and
``RewriteRule ... [R=NNN,L]`` with ``RewriteCond`` on the host and on https.

Apache's semantics, as translated:

* ``Redirect /old URL`` is a prefix match **at a segment boundary**: ``/old`` and ``/old/x``
  (to ``URL/x``), never ``/older``. It becomes two rules, the exact path and
  ``/old/{rest:path}``. The status defaults to 302 (``temp``); ``permanent`` is 301;
  ``Redirect gone /old`` (or ``410``) is ``gone: true`` on both, ``451`` ``gone: 451``;
  ``seeother`` (303) is reported (redirectware never sends it);
* the query string is kept unless the target has its own (then Apache drops the request's);
  ``RewriteRule`` keeps it the same way, ``[QSA]`` joins both (as redirectware does),
  ``[QSD]`` or a target ending in ``?`` drops it;
* ``RewriteRule`` redirects only with ``[R]`` or an absolute target; without, it is an
  internal rewrite (reported). ``[G]`` answers 410: ``gone: true``. ``[NC]`` is
  ``case_sensitive: false``. Flags other than ``R``, ``L``, ``NE``, ``QSA``, ``QSD``,
  ``END``, ``NC``, ``G`` are reported;
* patterns (``RewriteRule``, ``RedirectMatch``) are searched in the path: one a path
  template says exactly becomes ``from`` (see :mod:`.patterns`), any other a ``from_regex``
  (RE2) with each capture a named group (``$1`` is ``{p1}``); one RE2 cannot run
  (back-references, look-around) is reported with RE2's reason. In an ``.htaccess`` file a
  ``RewriteRule`` pattern sees the path without its leading ``/``;
* ``RewriteCond %{HTTP_HOST} ^www\\.example\\.com$`` becomes ``host``, ``%{HTTPS} off`` (or
  ``!=on``) ``scheme: http`` and ``on`` ``scheme: https``; any other condition, ``[OR]`` or a
  negated host is reported. ``%{HTTP_HOST}`` and ``%{REQUEST_URI}`` in a target become
  ``{host}`` and ``{path}``;
* inside ``<VirtualHost>`` with a ``ServerName``, rules get that ``host``.
"""

from __future__ import annotations

import re
from typing import Any

from .patterns import regex_path, regex_template, substitute
from .result import Imported, ImportResult, absolute, fill, test_entry

SAMPLE_HOST = "example.com"
_STATUS_WORDS = {"permanent": 301, "temp": 302, "seeother": 303, "gone": 410}
_KEPT = (301, 302, 307, 308)
_FLAGS = {"R", "L", "NE", "QSA", "QSD", "END", "NC", "NOCASE", "G", "GONE"}
_GONE_CODES = (410, 451)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append((start, pending + raw))
        pending = ""
    return lines


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.result = ImportResult("apache", source)
        self.per_dir = source.endswith(".htaccess")
        self.host: str | None = None
        self.conds: list[tuple[int, str, list[str]]] = []
        self.containers: list[str] = []
        #: The negated <IfModule !mod_x.c> blocks open: (depth, module).
        self.missing: list[tuple[int, str]] = []
        #: Items by module: Apache runs mod_rewrite and mod_alias in different phases.
        self.alias: list[Imported] = []
        self.rewrite: list[Imported] = []
        for number, line in _logical_lines(text):
            self.line(number, line)
        # mod_rewrite acts before mod_alias, whatever their lines say: in server context
        # (both translate the URL, mod_rewrite first) and in an .htaccess too, where Debian's
        # apache2 answers a path that a RewriteRule [R] and a Redirect both name with the
        # RewriteRule's redirect (tests/test_import_apache.py asks the real server).
        self.result.items = self.rewrite + self.alias
        if self.alias and self.rewrite:
            self.result.notes.append(
                f"{source}: ordered as Apache applies them: RewriteRule before Redirect*"
            )

    def lose(self, number: int, text: str, why: str) -> None:
        self.result.lose(number, text, why)

    def line(self, number: int, raw: str) -> None:
        text = raw.strip()
        if not text or text.startswith("#"):
            return
        if text.startswith("</"):
            closing = text[2:].rstrip(">").strip().lower()
            if self.containers and self.containers[-1] == closing:
                if self.missing and self.missing[-1][0] == len(self.containers):
                    self.missing.pop()
                self.containers.pop()
                if closing == "virtualhost":
                    self.host = None
            return
        if text.startswith("<"):
            opened = text[1:].rstrip(">").split()
            self.containers.append(opened[0].lower())
            if opened[0].lower() == "ifmodule" and len(opened) > 1 and opened[1].startswith("!"):
                # Read where the module is missing: a fallback for servers without it.
                self.missing.append((len(self.containers), opened[1][1:]))
            return
        # Apache splits on spaces, honours double quotes and keeps backslashes (regexes).
        words = [w[1:-1] if w.startswith('"') and w.endswith('"') and len(w) > 1 else w
                 for w in re.findall(r'"[^"]*"|\S+', text)]  # fmt: skip
        name, args = words[0].lower(), words[1:]
        if name == "servername" and args and "virtualhost" in self.containers:
            self.host = args[0].lower()
            return
        if name not in ("redirect", "redirectpermanent", "redirecttemp", "redirectmatch",
                        "rewritecond", "rewriterule", "rewritebase"):  # fmt: skip
            return  # not a redirect: not ours to translate
        if self.missing:
            module = self.missing[-1][1]
            why = (
                f"inside <IfModule !{module}>: it applies only on a server without {module}, "
                "and the translation assumes the modules it reads"
            )
            self.lose(number, raw, why)
            return
        inside = [c for c in self.containers if c not in ("virtualhost", "ifmodule")]
        if inside:
            self.lose(number, raw, f"inside <{inside[-1]}>: its scope is not translated")
            return
        getattr(self, name)(number, raw, args)

    # --- mod_alias -------------------------------------------------------------------------

    def _status(self, word: str) -> int | None:
        if word.lower() in _STATUS_WORDS:
            return _STATUS_WORDS[word.lower()]
        return int(word) if word.isdigit() else None

    def redirect(self, number: int, raw: str, args: list[str], default: int = 302) -> None:
        status = default
        if (
            args
            and self._status(args[0]) is not None
            and (len(args) >= 2 or self._status(args[0]) in _GONE_CODES)
        ):
            status = self._status(args.pop(0)) or default
        gone = status in _GONE_CODES
        if status not in _KEPT and not gone:
            self.lose(number, raw, f"status {status} is not a redirect redirectware sends")
            return
        if gone:
            if len(args) != 1 or not args[0].startswith("/"):
                self.lose(number, raw, "expected Redirect gone /path (a gone takes no URL)")
                return
            args = [args[0], ""]
        if len(args) != 2 or not args[0].startswith("/"):
            self.lose(number, raw, "expected Redirect [status] /path URL")
            return
        path, target = args
        keep = "?" not in target
        rules: list[dict[str, Any]] = []
        tests: list[dict[str, Any]] = []
        spellings = [(path + "{rest:path}", target + "{rest}")] if path.endswith("/") else [
            (path, target), (path + "/{rest:path}", target.rstrip("/") + "/{rest}")]  # fmt: skip
        for template, to in spellings:
            rule = self.rule(number, template, None if gone else to, status, keep)
            if rules:
                rule["name"] += "-below"  # the paths below /old: a rule of its own
            rules.append(rule)
            sample, values = fill(template)
            # Apache appends what follows the prefix to the target.
            if "rest" not in values:
                location = target
            elif path.endswith("/"):
                location = target + values["rest"]
            else:
                location = target.rstrip("/") + sample[len(path) :]
            tests.append(self.test(sample, status, None if gone else location))
        self.alias.append(Imported(self.result.source, number, raw, rules, tests))

    def redirectpermanent(self, number: int, raw: str, args: list[str]) -> None:
        self.redirect(number, raw, args, 301)

    def redirecttemp(self, number: int, raw: str, args: list[str]) -> None:
        self.redirect(number, raw, args, 302)

    def redirectmatch(self, number: int, raw: str, args: list[str]) -> None:
        status = 302
        if args and self._status(args[0]) is not None:
            status = self._status(args.pop(0)) or 0
        gone = status in _GONE_CODES
        if status not in _KEPT and not gone:
            self.lose(number, raw, f"status {status} is not a redirect redirectware sends")
            return
        if gone and len(args) == 1:
            args = [args[0], "-"]
        if len(args) != 2:
            self.lose(number, raw, "expected RedirectMatch [301|302|307|308] regex URL")
            return
        self.regex_rule(number, raw, args[0], None if gone else args[1], status,
                        "?" not in args[1], None, None, search=True)  # fmt: skip

    # --- mod_rewrite -----------------------------------------------------------------------

    def rewritebase(self, number: int, raw: str, args: list[str]) -> None:
        if args != ["/"]:
            self.lose(number, raw, "a RewriteBase other than / is not translated")

    def rewritecond(self, number: int, raw: str, args: list[str]) -> None:
        self.conds.append((number, raw, args))

    def rewriterule(self, number: int, raw: str, args: list[str]) -> None:
        conds, self.conds = self.conds, []
        if len(args) < 2:
            self.lose(number, raw, "expected RewriteRule pattern substitution [flags]")
            return
        pattern, target = args[0], args[1]
        flags = {}
        if len(args) > 2:
            for flag in args[2].strip("[]").split(","):
                key, _, value = flag.strip().partition("=")
                flags[key.upper()] = value
        bad = sorted(set(flags) - _FLAGS)
        gone = "G" in flags or "GONE" in flags
        redirect = "R" in flags or target.startswith(("http://", "https://")) or gone
        why = None
        if target == "-" and not redirect:
            # "-" leaves the URL as it is: a rule for its flags (an environment variable, a
            # header), never a redirect.
            why = "not a redirect: the target '-' leaves the URL unchanged (the rule sets flags)"
        elif bad:
            why = f"flag(s) {', '.join(bad)} not translated"
        elif not redirect:
            why = "an internal rewrite (the client's URL does not change), not a redirect"
        code = flags.get("R", "")
        # [R] alone is a 302; [R=NNN] that code; [G] answers 410 whatever the target.
        status = 410 if gone else int(code) if code.isdigit() else (302 if not code else 0)
        if why is None and status not in _KEPT and not gone:
            why = f"[R={flags.get('R')}] is not a redirect redirectware sends"
        scheme: str | None = None
        host: str | None = self.host
        for cond_line, cond_raw, cond in conds:
            if why is not None:
                break
            found = self._condition(cond)
            if found is None:
                why = f"the RewriteCond on line {cond_line} is not translated: {cond_raw.strip()}"
            elif found[0] == "scheme":
                scheme = found[1]
            else:
                host = found[1]
        if why is not None:
            self.lose(number, raw, why)
            return
        keep = "QSD" not in flags and not target.endswith("?")
        if "?" in target.rstrip("?") and "QSA" not in flags:
            keep = False
        target = target.rstrip("?") if target.endswith("?") else target
        target = target.replace("%{HTTP_HOST}", "{host}").replace("%{REQUEST_URI}", "{path}")
        if "%{" in target or re.search(r"%[0-9]", target):
            self.lose(number, raw, "a server variable or %N in the target is not translated")
            return
        nocase = "NC" in flags or "NOCASE" in flags
        self.regex_rule(number, raw, pattern, None if gone else target, status, keep, scheme,
                        host, case_sensitive=not nocase)  # fmt: skip

    def _condition(self, cond: list[str]) -> tuple[str, str] | None:
        if len(cond) > 2 and cond[2].upper().strip("[]") not in ("NC", ""):
            return None
        if len(cond) < 2:
            return None
        variable, test = cond[0], cond[1]
        if variable.upper() == "%{HTTPS}":
            if test.lower() in ("off", "!=on", "!on", "!^on$"):
                return ("scheme", "http")
            if test.lower() in ("on", "=on", "^on$"):
                return ("scheme", "https")
            return None
        if variable.upper() == "%{HTTP_HOST}" and not test.startswith("!"):
            literal = test
            if test.startswith("="):
                literal = test[1:]
            else:
                match = re.fullmatch(r"\^((?:[A-Za-z0-9-]|\\\.)+)\$", test)
                if match is None:
                    return None
                literal = match.group(1).replace("\\.", ".")
            return ("host", literal.lower())
        return None

    # --- shared -----------------------------------------------------------------------------

    def rule(self, number: int, template: str | None, to: str | None, status: int,
             keep: bool, scheme: str | None = None, host: str | None = None,
             regex: str | None = None, case_sensitive: bool = True) -> dict[str, Any]:  # fmt: skip
        """One rule: ``from`` ``template`` (or ``from_regex`` ``regex``) to ``to``; a gone
        (``status`` 410 or 451) when ``to`` is None."""
        rule: dict[str, Any] = {"name": f"apache-{number}"}
        if host or self.host:
            rule["host"] = host or self.host
        if scheme:
            rule["scheme"] = scheme
        if regex is not None:
            rule["from_regex"] = regex
        else:
            rule["from"] = template
        if not case_sensitive:
            rule["case_sensitive"] = False
        if to is None:
            rule["gone"] = True if status == 410 else status
            return rule
        rule.update({"to": to, "status": status})
        if not keep:
            rule["keep_query"] = False
        return rule

    def test(self, path: str, status: int, location: str | None,
             scheme: str | None = None, host: str | None = None) -> dict[str, Any]:  # fmt: skip
        origin_host = host or self.host or SAMPLE_HOST
        origin_scheme = scheme or "http"
        url = f"{origin_scheme}://{origin_host}{path}"
        if location is None:
            return test_entry("GET", url, status, None)
        location = location.replace("{host}", origin_host).replace("{path}", path)
        return test_entry("GET", url, status, absolute(location, origin_scheme, origin_host))

    def regex_rule(self, number: int, raw: str, pattern: str, target: str | None,
                   status: int, keep: bool, scheme: str | None, host: str | None,
                   case_sensitive: bool = True, search: bool = False) -> None:  # fmt: skip
        """A ``RewriteRule`` or ``RedirectMatch``: a path template when one says the
        pattern exactly, else a ``from_regex``; ``target`` None for a gone."""
        module = self.alias if search else self.rewrite
        server_all = pattern in ("^(.*)$", "^(.*)") and not self.per_dir
        per_dir = self.per_dir and not search and not pattern.startswith("^/")
        try:
            if server_all:
                # In server context (.*) captures the whole path, slash included: {path}.
                template, names = "/{p1:path}", ["p1"]
                to = None if target is None else target.replace("$1", "{path}")
            else:
                template, names = regex_template(pattern, leading_slash=not per_dir)
                to = None if target is None else substitute(target, names)
        except ValueError:
            self.regex_item(module, number, raw, pattern, target, status, keep, scheme, host,
                            case_sensitive, per_dir)  # fmt: skip
            return
        if to is not None and not to.startswith(("/", "http://", "https://", "{")):
            self.lose(number, raw, "a relative target (RewriteBase) is not translated")
            return
        rule = self.rule(number, template, to, status, keep, scheme, host,
                         case_sensitive=case_sensitive)  # fmt: skip
        sample, values = fill(template)
        location = to
        for name, value in values.items():
            location = None if location is None else location.replace("{" + name + "}", value)
        if server_all and target is not None:
            location = target.replace("$1", sample)
        test = self.test(sample, status, location, scheme, host)
        module.append(Imported(self.result.source, number, raw, [rule], [test]))

    def regex_item(self, module: list[Imported], number: int, raw: str, pattern: str,
                   target: str | None, status: int, keep: bool, scheme: str | None,
                   host: str | None, case_sensitive: bool, per_dir: bool) -> None:  # fmt: skip
        """A pattern no path template says, as a ``from_regex`` (RE2), when RE2 runs it."""
        try:
            regex = regex_path(pattern, case_sensitive, per_dir)
            to = None if target is None else regex.target(target)
        except (ValueError, ImportError) as error:  # ImportError: RE2 is not installed
            self.lose(number, raw, str(error))
            return
        if to is not None and not to.startswith(("/", "http://", "https://", "{")):
            self.lose(number, raw, "a relative target (RewriteBase) is not translated")
            return
        rule = self.rule(number, None, to, status, keep, scheme, host, regex.pattern,
                         case_sensitive)  # fmt: skip
        # No sample request can be drawn from a regex: the rule has no tests: entry.
        module.append(Imported(self.result.source, number, raw, [rule], []))


def parse(text: str, source: str) -> ImportResult:
    """An Apache configuration file or ``.htaccess``."""
    return _Reader(text, source).result
