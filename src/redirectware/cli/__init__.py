"""The ``redirectware`` console script: ``check``, ``explain``, ``import``, ``export``,
``compile``, ``serve``, ``replay``, ``suggest``, ``verify``, ``diff``.

Every command loads documents with the same loader as the middleware and asks the same
:meth:`RuleSet.resolve`; none holds rule logic of its own. Exit codes: 0 all good, 1 a
document is invalid (or a ``tests:`` entry failed, or ``--strict`` and a warning), 2 a usage
error (bad arguments, a missing file) or a missing extra: a command that needs a package not
installed prints one line, the ``pip install 'redirectware[EXTRA]'`` to run, and no traceback.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from redirectware import __version__
from redirectware._extras import MissingExtra, missing_extra
from redirectware.document.probes import ProbeError
from redirectware.errors import RuleError

from .exporting import EXPORT_HELP, FORMATS
from .importing import FORMATS as IMPORT_FORMATS
from .importing import IMPORT_HELP

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

#: Warnings of one kind on one rule printed in full before ``check`` sums them up.
EXAMPLES = 3

_SUFFIXES = (".yaml", ".yml", ".json")


class UsageError(Exception):
    """A command line that cannot be run as given; the message says what to do instead."""


#: The tools whose files ``--format`` reads, as a sentence names them.
_TOOL_NAMES = {
    "netlify": "Netlify's",
    "vercel": "Vercel's",
    "nginx": "nginx's",
    "apache": "Apache's",
    "cloudflare": "Cloudflare's",
    "django": "Django's",
    "wagtail": "Wagtail's",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser that names the closest option or command to a mistyped one, as
    ``git`` does, with the usage of the command it was typed for."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        command = getattr(parsed, "command", None)
        if extras and self._subparsers_by_name and command in self._subparsers_by_name:
            # The top-level parser would report these with its own usage: the command's
            # usage and options are the ones that help.
            sub = self._subparsers_by_name[command]
            sub.error(f"unrecognized arguments: {' '.join(extras)}{sub._closest(extras)}")
        return parsed, extras

    @property
    def _subparsers_by_name(self) -> dict[str, _Parser]:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    def _closest(self, extras: Sequence[str]) -> str:
        options = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
        for extra in extras:
            if extra.startswith("-"):
                typed = extra.split("=", 1)[0]
                near = difflib.get_close_matches(typed, options, n=1, cutoff=0.6)
                if near:
                    return f" (did you mean {near[0]}?)"
        return ""

    def error(self, message: str) -> NoReturn:
        """Print the usage and the message, with the closest command to an invalid one."""
        found = re.match(r"argument COMMAND: invalid choice: '([^']*)'", message)
        if found is not None:
            near = difflib.get_close_matches(found[1], list(self._subparsers_by_name), n=1)
            if near:
                message = f"'{found[1]}' is not a command; did you mean '{near[0]}'?"
        super().error(message)


#: What another tool's redirect file looks like inside, for a file with a generic name.
_APACHE_LINE = re.compile(
    r"^\s*(RewriteRule|RewriteEngine|RedirectMatch|Redirect(Permanent|Temp)?)\s", re.M
)
_NGINX_LINE = re.compile(r"^\s*(server\s*\{|location\s|return\s+30[1278]\s|rewrite\s)", re.M)


def foreign_format(path: Path) -> str | None:
    """The ``--format`` of another tool that ``path`` looks like, or None.

    Known by name (``_redirects``, ``netlify.toml``, ``vercel.json``, ``.htaccess``) or, for
    a configuration file with a generic name (``*.conf``, a file in ``sites-enabled``), by
    the directives it holds; a ``vercel.json`` that is a rule document is left alone."""
    name = path.name.lower()
    if name in ("_redirects", "netlify.toml"):
        return "netlify"
    if name == ".htaccess":
        return "apache"
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        head = ""
    if name == "vercel.json":
        try:
            data = json.loads(head)
        except ValueError:
            return "vercel"
        is_rules = isinstance(data, dict) and "rules" in data
        return None if is_rules else "vercel"
    if path.suffix.lower() in _SUFFIXES:
        return None
    if _APACHE_LINE.search(head):
        return "apache"
    if _NGINX_LINE.search(head) or name.endswith(".conf") or path.parent.name == "sites-enabled":
        return "nginx"
    return None


def rule_file(text: str) -> Path:
    """An existing ``.yaml``/``.yml``/``.json`` file named on the command line."""
    path = Path(text)
    found = foreign_format(path)
    if found is not None:
        raise UsageError(
            f"{text}: this looks like {_TOOL_NAMES[found]} redirects, not a redirectware rule "
            f"document: 'redirectware check --format {found} {text}' checks it as it is, and "
            f"'redirectware import {found} {text} -o redirects.yaml' translates it"
        )
    if path.suffix.lower() not in _SUFFIXES:
        raise UsageError(
            f"{text}: a rule file must be named .yaml, .yml or .json "
            f"(got {path.suffix or 'no extension'!r}); another tool's redirects are read "
            f"with --format ({', '.join(IMPORT_FORMATS)})"
        )
    if not path.exists():
        raise UsageError(
            f"{text}: no such file (check the path; it is read relative to {Path.cwd()})"
        )
    if not path.is_file():
        raise UsageError(f"{text}: not a file")
    return path


def source_file(text: str) -> Path:
    """An existing file of another tool's, named on the command line."""
    path = Path(text)
    if not path.is_file():
        raise UsageError(
            f"{text}: no such file (check the path; it is read relative to {Path.cwd()})"
        )
    return path


_CHECK_HELP = """\
Load each rule document as the middleware would; report errors, failed tests: entries and
warnings (chains, rules shadowed by earlier rules, rules that can never match, targets
outside allowed_hosts), each with FILE:LINE.

exit status: 0 all valid, 1 any invalid (or a tests: entry failed, or --strict and a
warning), 2 usage error.

example:
  redirectware check redirects.yaml
  redirectware check --json --strict redirects.yaml legacy.json
"""

_EXPLAIN_HELP = """\
Show what one request gets: the rule that matches (name, file:line), the exact status line
and headers, and the hops of a chain the engine collapsed; or that no rule matches and the
request passes through to the app.

example:
  redirectware explain redirects.yaml POST 'http://example.com/api/v1/orders?x=1'
  redirectware explain redirects.yaml GET https://example.com/ -H 'Accept: application/json'
"""

_SERVE_HELP = """\
Run a standalone redirect server (uvicorn; pip install 'redirectware[serve]'): for a domain
whose only job is to redirect, such as an old domain after a rebrand. A request that no rule
matches gets 404. Logs one line per redirect, naming the rule. Ctrl-C stops it.

example:
  redirectware serve redirects.yaml --host 0.0.0.0 --port 8080 --reload
"""


_REPLAY_HELP = """\
Replay access logs through the rules, without a server, and report: per rule, how many
logged requests it would answer and with what status; rules no logged request reaches;
404s no rule covers, by path with their top referrers; requests whose logged status
differs from what the document answers now. Reads the combined/common format (nginx,
Apache, gunicorn) and uvicorn's access log by default, several files, .gz too. Streams in
bounded memory; malformed lines are counted and the first few shown.

example:
  redirectware replay redirects.yaml --log /var/log/nginx/access.log --log access.log.2.gz
  redirectware replay redirects.yaml --log access.log --host example.com --json
  redirectware replay redirects.yaml --log access.log \\
      --format '$remote_addr [$time_local] "$request" $status "$http_referer" $host'
"""


_SUGGEST_HELP = """\
Propose a redirect for each URL that now 404s: the live URL it most likely meant (renamed
prefixes as one template rule; a changed extension, a date dropped from a blog path; else
the most similar path, with rapidfuzz: pip install 'redirectware[suggest]'). With --out,
writes suggested-map.csv (from,to: loads as a map as written), suggested-redirects.yaml
(the rules and a tests: entry per suggestion) and review.csv (every suggestion and score).

example:
  redirectware replay redirects.yaml --log access.log --json > replay.json
  redirectware suggest --not-found replay.json --urls sitemap.xml --out suggestions/
  redirectware suggest --not-found access.log --urls urls.txt --threshold 90
"""


_VERIFY_HELP = """\
Send the document's requests to a live site and check that it answers as the rules say:
every tests: entry and each rule's sample requests (each row of a map), each as a GET and as
a POST with a small body. Checks the status and Location (one hop; 307 or 308 to a POST),
Cache-Control, Vary, Strict-Transport-Security and the headers a tests: entry expects, and
that each redirect target on the site answers 2xx and is not a page saying "not found". A
request keeps its own host in Host (--host-from-base sends the base's); it goes to the base
URL of its scheme: give one http:// and one https:// base URL to send both. Redirects are
never followed; at most --concurrency requests in flight and --rate per second.

exit status: 0 all checks passed, 1 any failed, 2 usage error or the site is unreachable.

example:
  redirectware verify redirects.yaml https://staging.example.com
  redirectware verify redirects.yaml http://127.0.0.1:8000 https://127.0.0.1:8443 --insecure
  redirectware verify redirects.yaml https://www.example.com --json --rate 2
"""

_DIFF_HELP = """\
Show what a change of rules does: every request whose answer differs between OLD and NEW
(status, Location, a pass that becomes a redirect or the reverse, a gone), with the rule
in each document. The requests: both documents' tests:, each rule's sample requests, and
with --log every distinct logged request (the formats replay reads, .gz too; streamed in
bounded memory), each asked as GET and as POST. Grouped by rule, most logged hits first.

exit status: 0 nothing changes, 1 something does, 2 usage error or an invalid document.

example:
  redirectware diff main.yaml redirects.yaml
  redirectware diff main.yaml redirects.yaml --log access.log --log access.log.1.gz --json
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = _Parser(
        prog="redirectware",
        description="Check, explain and serve redirectware rule documents; replay access logs "
        "through them, suggest redirects for 404s, show what a change of rules changes, "
        "and verify that a live site answers as they say.",
        epilog="example:\n  redirectware check redirects.yaml\n\n"
        "Run 'redirectware COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"redirectware {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    raw = argparse.RawDescriptionHelpFormatter

    check = commands.add_parser(
        "check", help="validate documents and run their tests:", description=_CHECK_HELP,
        formatter_class=raw,
    )  # fmt: skip
    check.add_argument("files", nargs="+", metavar="FILE", help="rule documents to check")
    check.add_argument(
        "--format", choices=IMPORT_FORMATS, metavar="FORMAT",
        help="the files are another tool's (" + ", ".join(IMPORT_FORMATS) + "): check "
        "them as 'redirectware import' would translate them, without saving",
    )  # fmt: skip
    check.add_argument("--json", action="store_true", help="print a JSON list of findings")
    check.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too")
    check.add_argument(
        "-v", "--verbose", action="store_true",
        help=f"print every warning (by default more than {EXAMPLES} of one kind on one rule "
        "are summed up in one line with examples)",
    )  # fmt: skip

    explain = commands.add_parser(
        "explain", help="show what one request gets", description=_EXPLAIN_HELP,
        formatter_class=raw,
    )  # fmt: skip
    explain.add_argument("file", metavar="FILE", help="the rule document")
    explain.add_argument("method", metavar="METHOD", help="the request method, e.g. GET or POST")
    explain.add_argument("url", metavar="URL", help="the absolute URL, e.g. http://example.com/a")
    explain.add_argument(
        "-H", "--header", action="append", default=[], metavar="'NAME: VALUE'",
        help="a request header (repeatable); a Host header overrides the URL's host",
    )  # fmt: skip
    explain.add_argument("--client", metavar="IP", help="the direct peer's IP address")
    explain.add_argument("--json", action="store_true", help="print the answer as JSON")

    compiling = commands.add_parser(
        "compile",
        help="compile the CSV maps a document names into shared files",
        description="Compile every CSV map the documents name (needs the lmdb extra), so "
        "that workers started later map the compiled files at once. The files go where the "
        "document's settings.map_cache says, else beside each CSV in .redirectware/.",
    )
    compiling.add_argument("files", nargs="+", metavar="FILE", help="rule documents")

    importing = commands.add_parser(
        "import", help="translate another tool's redirects", description=IMPORT_HELP,
        formatter_class=raw,
    )  # fmt: skip
    importing.add_argument(
        "format", choices=IMPORT_FORMATS, metavar="FORMAT", help=", ".join(IMPORT_FORMATS)
    )
    importing.add_argument("source", metavar="SOURCE", help="the other tool's file")
    importing.add_argument("-o", "--output", metavar="OUT", help="write here (default: stdout)")
    importing.add_argument("--report", metavar="FILE", help="write the loss report as JSON")
    importing.add_argument(
        "--site-id", type=int, metavar="ID",
        help="django: the project's SITE_ID (its rows answer on every host)",
    )  # fmt: skip
    importing.add_argument(
        "--append-slash", choices=("on", "off"), default="on",
        help="django: the project's APPEND_SLASH (default on, as Django's)",
    )  # fmt: skip

    export = commands.add_parser(
        "export", help="write the rules for nginx, Caddy, Apache, Cloudflare or Netlify",
        description=EXPORT_HELP, formatter_class=raw,
    )  # fmt: skip
    export.add_argument("format", choices=FORMATS, metavar="FORMAT", help=", ".join(FORMATS))
    export.add_argument("file", metavar="FILE", help="the rule document")
    export.add_argument("-o", "--output", metavar="OUT", help="write here (default: stdout)")
    export.add_argument(
        "--partial", action="store_true",
        help="leave out what the target cannot express, with a comment, instead of failing",
    )  # fmt: skip

    serve = commands.add_parser(
        "serve", help="run a standalone redirect server", description=_SERVE_HELP,
        formatter_class=raw,
    )  # fmt: skip
    serve.add_argument("file", metavar="FILE", help="the rule document")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--reload", action="store_true",
        help="re-read FILE when it changes (an invalid edit keeps the old rules serving)",
    )  # fmt: skip

    replay = commands.add_parser(
        "replay", help="replay access logs through the rules", description=_REPLAY_HELP,
        formatter_class=raw,
    )  # fmt: skip
    replay.add_argument("file", metavar="FILE", help="the rule document")
    replay.add_argument(
        "--log", action="append", required=True, metavar="ACCESS_LOG",
        help="an access log, plain or gzip-compressed (repeatable)",
    )  # fmt: skip
    replay.add_argument(
        "--format", metavar="LOG_FORMAT",
        help="an nginx log_format string, as in nginx.conf (default: combined/common, "
        "or uvicorn's)",
    )  # fmt: skip
    replay.add_argument(
        "--host", help="the Host of requests whose line names none (default: the one exact "
        "name in allowed_hosts)",
    )  # fmt: skip
    replay.add_argument(
        "--scheme", choices=("http", "https"), default="https",
        help="the scheme of requests whose line names none (https)",
    )  # fmt: skip
    replay.add_argument("--json", action="store_true", help="print the report as JSON")
    replay.add_argument(
        "--top", type=int, default=50, help="entries shown per list (50; 0 for all)"
    )
    replay.add_argument("--max-keys", type=int, default=200_000, help=argparse.SUPPRESS)
    replay.add_argument(
        "--max-groups", type=int, default=100_000,
        help="groups kept per table before the lightest are dropped (100000)",
    )  # fmt: skip

    suggest = commands.add_parser(
        "suggest", help="propose redirects for 404s", description=_SUGGEST_HELP,
        formatter_class=raw,
    )  # fmt: skip
    suggest.add_argument(
        "--not-found", required=True, metavar="FILE",
        help="the 404s: replay's JSON, a JSON list of paths, or an access log",
    )  # fmt: skip
    suggest.add_argument(
        "--urls", required=True, metavar="FILE",
        help="the live URLs: a sitemap.xml, or a text file of URLs or paths",
    )  # fmt: skip
    suggest.add_argument("--out", metavar="DIR", help="write the map, rules and review here")
    suggest.add_argument(
        "--threshold", type=float, default=85.0,
        help="the least score (0 to 100) of a suggestion written to the map (85)",
    )  # fmt: skip
    suggest.add_argument(
        "--min-template", type=int, default=3,
        help="404s sharing a renamed prefix before it becomes one template rule (3)",
    )  # fmt: skip
    suggest.add_argument(
        "--host", default="example.com", help="the host of the tests: entries (example.com)"
    )
    suggest.add_argument(
        "--temporary", action="store_true", help="suggest temporary redirects, not permanent"
    )

    verify = commands.add_parser(
        "verify", help="check that a live site answers as the rules say",
        description=_VERIFY_HELP, formatter_class=raw,
    )  # fmt: skip
    verify.add_argument("file", metavar="FILE", help="the rule document")
    verify.add_argument(
        "base_urls", nargs="+", metavar="BASE_URL",
        help="where the site listens, e.g. https://staging.example.com (one per scheme)",
    )  # fmt: skip
    verify.add_argument("--json", action="store_true", help="print the findings as JSON")
    verify.add_argument(
        "--concurrency", type=_positive_int, default=4, metavar="N",
        help="requests in flight at most (4)",
    )  # fmt: skip
    verify.add_argument(
        "--rate", type=_positive_float, default=10.0, metavar="R",
        help="requests started per second at most (10)",
    )  # fmt: skip
    verify.add_argument(
        "--timeout", type=_positive_float, default=10.0, metavar="S",
        help="seconds to wait for each answer (10)",
    )  # fmt: skip
    verify.add_argument(
        "--host-from-base", action="store_true",
        help="send the base URL's host in Host, not the document's",
    )  # fmt: skip
    verify.add_argument(
        "--insecure", action="store_true",
        help="do not check TLS certificates (a staging site's self-signed one)",
    )  # fmt: skip

    differ = commands.add_parser(
        "diff", help="show the requests a change of rules answers differently",
        description=_DIFF_HELP, formatter_class=raw,
    )  # fmt: skip
    differ.add_argument("old", metavar="OLD", help="the rule document as it is")
    differ.add_argument("new", metavar="NEW", help="the rule document as it would be")
    differ.add_argument(
        "--log", action="append", default=[], metavar="ACCESS_LOG",
        help="an access log whose requests are judged too, plain or gzip-compressed "
        "(repeatable)",
    )  # fmt: skip
    differ.add_argument(
        "--host", help="the Host of logged requests whose line names none (default: the one "
        "exact name in allowed_hosts)",
    )  # fmt: skip
    differ.add_argument(
        "--format", metavar="LOG_FORMAT",
        help="an nginx log_format string (default: combined/common, or uvicorn's)",
    )  # fmt: skip
    differ.add_argument(
        "--scheme", choices=("http", "https"), default="https",
        help="the scheme of logged requests whose line names none (https)",
    )  # fmt: skip
    differ.add_argument("--json", action="store_true", help="print the changes as JSON")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check" and args.format is not None:
            from .check import run_check_imported

            return run_check_imported(
                args.format, [source_file(f) for f in args.files], as_json=args.json,
                strict=args.strict, verbose=args.verbose,
            )  # fmt: skip
        if args.command == "check":
            from .check import run_check

            return run_check(
                [rule_file(f) for f in args.files],
                as_json=args.json,
                strict=args.strict,
                verbose=args.verbose,
            )
        if args.command == "explain":
            from .explain import run_explain

            return run_explain(
                rule_file(args.file), args.method, args.url, args.header, args.client, args.json
            )
        if args.command == "compile":
            from .compiling import run_compile

            return run_compile([rule_file(f) for f in args.files])
        if args.command == "replay":
            from .replay import run_replay

            return run_replay(
                rule_file(args.file),
                args.log,
                as_json=args.json,
                log_format=args.format,
                host=args.host,
                scheme=args.scheme,
                top=args.top,
                max_keys=args.max_keys,
                max_groups=args.max_groups,
            )
        if args.command == "diff":
            from .diff import run_diff

            return run_diff(
                rule_file(args.old), rule_file(args.new), args.log, as_json=args.json,
                host=args.host, log_format=args.format, scheme=args.scheme,
            )  # fmt: skip
        if args.command == "suggest":
            from .suggest import run_suggest

            return run_suggest(
                Path(args.not_found),
                Path(args.urls),
                None if args.out is None else Path(args.out),
                threshold=args.threshold,
                min_template=args.min_template,
                host=args.host,
                permanent=not args.temporary,
            )
        if args.command == "import":
            from .importing import run_import

            return run_import(
                args.format, source_file(args.source), args.output, args.report,
                args.site_id, args.append_slash == "on",
            )  # fmt: skip
        if args.command == "export":
            from .exporting import run_export

            return run_export(args.format, rule_file(args.file), args.output, args.partial)
        if args.command == "verify":
            from redirectware.tools.verify import Options

            from .verify import run_verify

            return run_verify(
                rule_file(args.file), args.base_urls, as_json=args.json,
                options=Options(args.concurrency, args.rate, args.timeout,
                                args.host_from_base, not args.insecure),
            )  # fmt: skip
        from .serve import run_serve

        return run_serve(rule_file(args.file), args.host, args.port, args.reload)
    except MissingExtra as error:
        print(f"redirectware {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, ProbeError, ValueError) as error:
        if isinstance(error, RuleError) and missing_extra(error) is not None:
            # A document that needs an extra (from_regex): it is not invalid, this
            # installation cannot load it. The error names the rule and what to install.
            print(f"redirectware {args.command}: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(error, RuleError):
            print(f"redirectware {args.command}: invalid rule document: {error}", file=sys.stderr)
            return EXIT_INVALID
        print(f"redirectware {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RuleError as error:
        print(f"redirectware {args.command}: invalid rule document: {error}", file=sys.stderr)
        return EXIT_INVALID
