"""``redirectware replay``: access logs through the rules, hand-made, hostile and from real
nginx and uvicorn runs."""

from __future__ import annotations

import gzip
import io
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.accesslog import (
    MAX_LINE,
    LogFormatError,
    nginx_format,
    unescape,
)
from redirectware.tools.replay import CHECK_EVERY, Replay, ReplayReport

from .servers import UVICORN, serve

RULES = {
    "version": 1,
    "settings": {"allowed_hosts": ["example.com"]},
    "rules": [
        {
            "name": "old-blog",
            "from": "/blog/{year:int}/{slug}",
            "to": "/posts/{slug}",
            "permanent": True,
        },
        {"name": "unused", "from": "/never-asked", "to": "/x"},
        {"from": "/about-us", "to": "/about"},
        {"name": "cafe", "from": "/caf\u00e9", "to": "/coffee", "permanent": True},
    ],
}
RULES_YAML = """\
version: 1
settings:
  allowed_hosts: [example.com]
rules:
  - name: old-blog
    from: /blog/{year:int}/{slug}
    to: /posts/{slug}
    permanent: true
  - name: unused
    from: /never-asked
    to: /x
"""


def line(target: str, status: int, referer: str = "-", method: str = "GET") -> str:
    """One combined-format line, as nginx writes it."""
    return (
        f'198.51.100.7 - - [28/Nov/2026:05:16:36 +0000] "{method} {target} HTTP/1.1" '
        f'{status} 512 "{referer}" "Mozilla/5.0"\n'
    )


def replay(data: bytes, **options: object) -> ReplayReport:

    run = Replay(RuleSet.from_dict(RULES), host="example.com", **options)  # type: ignore[arg-type]
    run.feed("access.log", io.BytesIO(data))
    return run.report()


def test_per_rule_counts_unreached_rules_404s_and_disagreements() -> None:
    log = "".join(
        [
            line("/blog/2019/hello", 301) * 3,
            line("/blog/2019/hello", 200),  # served once by an older deploy: now redirected
            line("/about-us", 404) * 2,  # a 404 the document now redirects
            line("/old-page", 301),  # a redirect the document no longer makes
            line("/missing", 404, "https://a.example/links") * 4,
            line("/missing", 404, "-"),
            line("/missing?utm=1", 404, "https://a.example/links"),
            line("/other-missing", 404) * 2,
            line("/fine", 200) * 10,
        ]
    ).encode()
    report = replay(log)
    assert report.lines == 25
    assert report.requests == 25
    assert report.malformed == 0
    uses = {use.rule.short_name: (use.requests, use.statuses) for use in report.rules}
    assert uses == {"old-blog": (4, {301: 4}), "rules[2]": (2, {302: 2})}
    assert [rule.short_name for rule in report.unreached] == ["unused", "cafe"]
    assert [(item.path, item.requests) for item in report.not_found] == [
        ("/missing", 6),
        ("/other-missing", 2),
    ]
    assert report.not_found[0].referers == [("https://a.example/links", 5), ("-", 1)]
    found = {(d.kind, d.path, d.logged, d.now, d.rule, d.requests) for d in report.disagreements}
    assert found == {
        ("now-answered", "/blog/2019/hello", 200, 301, "old-blog", 1),
        ("404-now-redirected", "/about-us", 404, 302, "rules[2]", 2),
        ("no-longer-redirected", "/old-page", 301, None, None, 1),
    }


def test_a_post_is_counted_with_the_status_it_gets() -> None:
    report = replay(line("/about-us", 307, method="POST").encode())
    assert report.rules[0].statuses == {307: 1}
    assert report.disagreements == []


HOSTILE = [
    pytest.param(b"\x00\x01\x02\xff\xfe binary junk\n", "not a", id="binary-junk"),
    pytest.param(b"x" * 100_000 + b"\n", "not a", id="100-KB-of-junk"),
    pytest.param(
        b'1.2.3.4 - - [t] "GET /a HTTP/1.1" 2OO 1 "-" "-"\n', "not a", id="status-not-digits"
    ),
    pytest.param(b'1.2.3.4 - - [t] "GET /a HTTP/1.1\n', "not a", id="unclosed-quote"),
    pytest.param(
        '1.2.3.4 - - [t] "GET /a HTTP/1.1" 404 0 "-" "-"'.encode("utf-16") + b"\n",
        "not a",
        id="utf-16-line",
    ),
]


@pytest.mark.parametrize(("junk", "reason"), HOSTILE)
def test_hostile_lines_are_counted_and_shown_with_their_line_numbers(
    junk: bytes, reason: str
) -> None:
    good = line("/missing", 404).encode()
    report = replay(good + junk + good)
    assert report.malformed == 1
    assert report.requests == 2
    shown = report.malformed_shown[0]
    assert (shown.file, shown.line) == ("access.log", 2)
    assert shown.reason.startswith(reason)
    assert len(shown.text) < 200  # a 100 KB line is shown cut short


def test_a_line_longer_than_the_limit_is_one_malformed_line_in_bounded_memory() -> None:
    long = line("/" + "a" * (MAX_LINE + 10), 404).encode()
    good = line("/missing", 404).encode()
    report = replay(good + long + good)
    assert report.malformed == 1
    assert report.malformed_shown[0].line == 2
    assert "longer than" in report.malformed_shown[0].reason
    assert report.requests == 2


def test_a_100_KB_request_line_is_still_a_request() -> None:
    path = "/missing/" + "b" * 100_000
    report = replay(line(path, 404).encode())
    assert report.malformed == 0
    assert report.not_found[0].path == path


def test_bytes_in_any_encoding_reach_the_engine_as_sent() -> None:
    # nginx escapes bytes outside printable ASCII as \xHH; Apache and gunicorn may write
    # them raw, in whatever encoding the client used (here latin-1 and broken UTF-8).
    log = (
        line("/caf\\xC3\\xA9", 301)  # nginx's escape of UTF-8 "é", percent-free
        + line("/caf%C3%A9", 301)  # percent-encoded, as browsers send it
    ).encode() + line("/caf\xe9", 404).encode("latin-1")  # a raw latin-1 byte
    report = replay(log)
    assert report.malformed == 0
    # nginx's escape undone gives the raw UTF-8 bytes, which the engine reads as the same
    # path as their percent-encoding; the latin-1 byte is another path.
    assert {use.rule.short_name: use.requests for use in report.rules} == {"cafe": 2}
    assert report.disagreements == []
    assert [item.path for item in report.not_found] == ["/caf\xe9"]


def test_unreadable_request_lines_are_counted_apart() -> None:
    tls = '1.2.3.4 - - [t] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00" 400 157 "-" "-"\n'
    report = replay((tls + line("*", 400, method="OPTIONS")).encode())
    assert (report.malformed, report.unreadable, report.requests) == (0, 2, 0)


def test_blank_lines_and_crlf_endings_are_fine() -> None:
    report = replay(b"\n\r\n" + line("/missing", 404).replace("\n", "\r\n").encode())
    assert (report.malformed, report.requests) == (0, 1)


def test_uvicorn_access_lines_are_read_too() -> None:
    log = b'INFO:     127.0.0.1:51234 - "GET /missing HTTP/1.1" 404 Not Found\n'
    report = replay(log)
    assert report.not_found[0].path == "/missing"


def test_bounded_tables_keep_the_heaviest_groups_exact() -> None:
    heavy = line("/heavy", 404) * 300
    light = "".join(line(f"/light-{n}", 404) for n in range(200))
    # A tiny bound forces both stages to spill several times.
    report = replay((heavy + light + heavy).encode(), max_keys=10, max_groups=40)
    assert report.not_found[0].path == "/heavy"
    assert report.not_found[0].requests == 600
    kept = sum(item.requests for item in report.not_found)
    assert kept + report.dropped["not_found"] == 800
    assert report.dropped["not_found"] > 0


def test_a_custom_nginx_format_gives_host_and_scheme() -> None:
    fmt = nginx_format(
        '$remote_addr [$time_local] "$request" $status "$http_referer" $host $scheme'
    )

    run = Replay(RuleSet.from_dict({"version": 1, "rules": [{"https": True}]}), fmt)
    log = (
        b'1.2.3.4 [28/Nov/2026:05:16:36 +0000] "GET /a HTTP/1.1" 301 "-" example.com http\n'
        b'1.2.3.4 [28/Nov/2026:05:16:36 +0000] "GET /a HTTP/1.1" 200 "-" example.com https\n'
    )
    run.feed("custom.log", io.BytesIO(log))
    report = run.report()
    assert report.malformed == 0
    assert report.rules[0].statuses == {302: 1}  # the http one; the https one passes
    assert report.disagreements[0].kind == "changed"


def test_a_format_without_request_or_status_is_refused() -> None:
    with pytest.raises(LogFormatError, match=r"\$status and \$request"):
        nginx_format("$remote_addr $host")


def test_unescape_undoes_nginx_and_apache_escapes() -> None:
    assert unescape(b'/a\\x22b\\\\c\\"d') == b'/a"b\\c"d'


def _cli(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    import contextlib

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["replay", *args])
    return code, out.getvalue(), err.getvalue()


def test_the_command_reads_several_files_and_gzip(tmp_path: Path) -> None:
    rules = tmp_path / "redirects.yaml"
    rules.write_text(RULES_YAML)
    plain = tmp_path / "access.log"
    plain.write_text(line("/blog/2020/a", 301) + "garbage\n")
    packed = tmp_path / "access.log.1.gz"
    packed.write_bytes(gzip.compress((line("/missing", 404, "https://r.example/") * 2).encode()))
    code, out, err = _cli(tmp_path, str(rules), "--log", str(plain), "--log", str(packed), "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["lines"] == 4
    assert report["rules"] == [
        {"rule": "old-blog", "index": 0, "line": 5, "requests": 1, "statuses": {"301": 1}}
    ]
    assert report["unreached"] == [
        {"rule": "unused", "index": 1, "place": f"{rules}:9"},
    ]
    assert report["not_found"] == [
        {"path": "/missing", "requests": 2, "referers": {"https://r.example/": 2}}
    ]
    assert report["malformed_examples"][0]["line"] == 2
    code, text, _ = _cli(tmp_path, str(rules), "--log", str(plain), "--log", str(packed))
    assert "unused (" in text and "/missing  referrers: https://r.example/ (2)" in text
    assert f"{plain}:2: not a combined, common or uvicorn log line" in text


def test_the_command_wants_a_host_it_cannot_guess(tmp_path: Path) -> None:
    rules = tmp_path / "redirects.yaml"
    rules.write_text("version: 1\nrules:\n  - from: /a\n    to: /b\n")
    log = tmp_path / "access.log"
    log.write_text(line("/a", 200))
    code, _, err = _cli(tmp_path, str(rules), "--log", str(log))
    assert code == 2 and "--host" in err
    code, out, _ = _cli(tmp_path, str(rules), "--log", str(log), "--host", "example.com")
    assert code == 0 and "now-answered: GET /a  logged 200, now gets 302" in out
    code, _, err = _cli(tmp_path, str(rules), "--log", str(tmp_path / "nope.log"))
    assert code == 2 and "no such log file" in err


# --- logs written by real servers ----------------------------------------------------------

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_CONF = """\
pid {folder}/nginx.pid;
error_log {folder}/error.log;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
  log_format custom '$remote_addr [$time_local] "$request" $status "$http_referer" $host $scheme';
  access_log {folder}/access.log combined;
  access_log {folder}/custom.log custom;
  client_body_temp_path {folder};
  proxy_temp_path {folder};
  fastcgi_temp_path {folder};
  uwsgi_temp_path {folder};
  scgi_temp_path {folder};
  server {{
    listen 127.0.0.1:PORT;
    location = /blog/2021/launch {{ return 301 /posts/launch; }}
    location = /old-page {{ return 301 /new-page; }}
    location = /ready {{ return 200 "ready"; }}
    location / {{ return 404; }}
  }}
}}
"""


@pytest.mark.servers
def test_a_log_written_by_nginx(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf.in").write_text(NGINX_CONF.format(folder=tmp_path))
    command = [
        "sh",
        "-c",
        f"sed s/PORT/{{port}}/ {tmp_path}/nginx.conf.in > {tmp_path}/nginx.conf && "
        f"exec {NGINX} -p {tmp_path} -c {tmp_path}/nginx.conf -g 'daemon off;'",
    ]
    with serve(command, ready_path="/ready") as server:
        headers = {"Host": "example.com", "Referer": "https://links.example/page"}
        for path in ["/blog/2021/launch", "/old-page", "/wp-login.php", "/wp-login.php"]:
            httpx.get(server.url + path, headers=headers)
        httpx.get(server.url + "/caf%C3%A9?x=\xe9", headers=headers)
    # nginx has stopped: every line it had to write is in the log.
    rules = tmp_path / "redirects.yaml"
    rules.write_text(RULES_YAML)
    code, out, err = _cli(
        tmp_path, str(rules), "--log", str(tmp_path / "access.log"), "--json", "--top", "0"
    )
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["malformed_lines"] == 0
    assert report["requests"] == 6
    assert report["rules"][0]["rule"] == "old-blog"
    assert report["rules"][0]["statuses"] == {"301": 1}
    paths = {item["path"]: item for item in report["not_found"]}
    assert paths["/wp-login.php"]["requests"] == 2
    assert paths["/wp-login.php"]["referers"] == {"https://links.example/page": 2}
    assert "/caf%C3%A9" in paths
    kinds = {(d["kind"], d["path"]) for d in report["disagreements"]}
    assert kinds == {("no-longer-redirected", "/old-page")}
    # The same traffic through the custom format, which logs host and scheme.
    code, out, _ = _cli(
        tmp_path,
        str(rules),
        "--log",
        str(tmp_path / "custom.log"),
        "--format",
        '$remote_addr [$time_local] "$request" $status "$http_referer" $host $scheme',
        "--json",
        "--scheme",
        "https",
    )
    custom = json.loads(out)
    assert custom["malformed_lines"] == 0
    assert custom["requests"] == 6
    # nginx logged scheme http (it served plain http): the https default is overridden.
    assert custom["rules"][0]["statuses"] == {"301": 1}


UVICORN_APP = """\
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    status = 200 if scope["path"] in ("/", "/about") else 404
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})
"""


@pytest.mark.servers
def test_a_log_written_by_uvicorn(tmp_path: Path) -> None:
    (tmp_path / "logged_site.py").write_text(UVICORN_APP)
    with serve(
        [*UVICORN, "logged_site:app", "--fd", "{fd}", "--no-use-colors"], cwd=tmp_path
    ) as server:
        for path in ["/blog/2019/hello", "/about", "/gone", "/gone"]:
            httpx.get(server.url + path)
        log_text = server.log()
    log = tmp_path / "uvicorn.log"
    log.write_text(log_text)
    rules = tmp_path / "redirects.yaml"
    rules.write_text(RULES_YAML)
    code, out, _ = _cli(tmp_path, str(rules), "--log", str(log), "--json", "--host", "x.example")
    assert code == 0
    report = json.loads(out)
    # uvicorn's start-up lines are not access lines: counted as malformed, never fatal.
    assert report["malformed_lines"] == log_text.count("\n") - 5
    assert report["requests"] == 5  # the readiness request to / as well
    assert {item["path"]: item["requests"] for item in report["not_found"]} == {"/gone": 2}
    assert report["disagreements"][0]["kind"] == "404-now-redirected"


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's other side is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.servers  # two runs of the command in a subprocess: seconds
def test_a_progress_line_only_on_a_terminal(tmp_path: Path) -> None:
    rules = tmp_path / "redirects.yaml"
    rules.write_text(RULES_YAML)
    log = tmp_path / "access.log"
    log.write_text(line("/missing", 404) * (CHECK_EVERY + 10))
    command = [sys.executable, "-m", "redirectware", "replay", str(rules), "--log", str(log)]
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=follower, timeout=120)
    finally:
        os.close(follower)
    shown = _read_all(leader).decode()
    os.close(leader)
    assert done.returncode == 0
    assert f"{CHECK_EVERY:,} lines" in shown and "lines/s" in shown
    assert b"lines/s" not in done.stdout.split(b"\n", 1)[1]  # the report itself is plain
    piped = subprocess.run(command, capture_output=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == b""
