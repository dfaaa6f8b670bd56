"""Real edge servers (Debian's nginx and Caddy) and the middleware, side by side.

Each server runs with a configuration written to a temporary folder, on 127.0.0.1 and an
ephemeral port (see :mod:`tests.servers`), and is stopped by its process when the test ends.
:func:`answer` sends a request with :mod:`http.client`, which puts the target on the wire
byte for byte (``%7e`` stays ``%7e``), so both sides get exactly the same request.
"""

from __future__ import annotations

import http.client
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tests.servers import UVICORN, Server, serve

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CADDY = shutil.which("caddy") or "/usr/bin/caddy"

#: The app behind the middleware: whatever passes through gets this.
_APP = """\
from redirectware import RedirectMiddleware


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"app"})


app = RedirectMiddleware(app, rules=RULES)
"""

_NGINX_CONF = """\
worker_processes 1;
error_log {folder}/error.log warn;
pid {folder}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{{port}};
        server_name _;
        include {folder}/redirects.nginx.conf;
        location / {{ return 200 "app"; }}
    }}
}}
"""

_CADDYFILE = """\
{{
    admin off
    auto_https off
}}
http://:{{port}} {{
    import {folder}/redirects.caddy
    respond "app" 200
}}
"""


class Answer(NamedTuple):
    """What the differential tests compare."""

    status: int
    location: str | None
    cache_control: str | None
    #: Sent by a rule with ``sunset`` (its redirects and its 410/451 answers).
    sunset: str | None = None
    deprecation: str | None = None


def answer(server: Server, method: str, target: str, host: str) -> Answer:
    """Send ``method target`` with ``Host: host`` and read the three compared values."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, target, headers={"Host": host, "Content-Length": "0"})
        response = connection.getresponse()
        response.read()
        return Answer(
            response.status,
            response.getheader("Location"),
            response.getheader("Cache-Control"),
            response.getheader("Sunset"),
            response.getheader("Deprecation"),
        )
    finally:
        connection.close()


@contextmanager
def middleware(
    rules_file: Path, folder: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """The middleware under uvicorn, around an app that answers 200."""
    (folder / "edge_app.py").write_text(f"RULES = {str(rules_file)!r}\n" + _APP)
    command = [*UVICORN, "edge_app:app", "--fd", "{fd}", "--lifespan", "on"]
    with serve(command, cwd=folder, env={"PYTHONPATH": str(folder), **(env or {})}) as server:
        yield server


@contextmanager
def nginx(config: str, folder: Path) -> Iterator[Server]:
    """Debian's nginx serving ``config`` (a server-level include) in front of a 200."""
    (folder / "redirects.nginx.conf").write_text(config)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / name).mkdir(exist_ok=True)
    template = _NGINX_CONF.format(folder=folder)
    conf = folder / "nginx.conf"
    # nginx reads its port from the file: written once the port is known (see start()).
    script = folder / "start-nginx.py"
    script.write_text(
        "import os, sys\n"
        f"open({str(conf)!r}, 'w').write({template!r}.replace('{{port}}', sys.argv[1]))\n"
        f"os.execv({NGINX!r}, [{NGINX!r}, '-p', {str(folder)!r}, '-c', {str(conf)!r}, "
        "'-g', 'daemon off;'])\n"
    )
    with serve([sys.executable, str(script), "{port}"]) as server:
        yield server


@contextmanager
def caddy(config: str, folder: Path) -> Iterator[Server]:
    """Debian's Caddy serving ``config`` (a snippet) in front of a 200."""
    (folder / "redirects.caddy").write_text(config)
    template = _CADDYFILE.format(folder=folder)
    caddyfile = folder / "Caddyfile"
    script = folder / "start-caddy.py"
    script.write_text(
        "import os, sys\n"
        f"open({str(caddyfile)!r}, 'w').write({template!r}.replace('{{port}}', sys.argv[1]))\n"
        f"os.environ.update(HOME={str(folder)!r}, XDG_DATA_HOME={str(folder)!r}, "
        f"XDG_CONFIG_HOME={str(folder)!r})\n"
        f"os.execv({CADDY!r}, [{CADDY!r}, 'run', '--config', {str(caddyfile)!r}, "
        "'--adapter', 'caddyfile'])\n"
    )
    with serve([sys.executable, str(script), "{port}"]) as server:
        yield server


APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
_MODULES = "/usr/lib/apache2/modules"
_HTTPD_MAIN = """\
ServerRoot {folder}
{modules}
PidFile {folder}/httpd.pid
ErrorLog {folder}/error.log
Listen 127.0.0.1:{{port}}
ServerName localhost
{user}
"""


@contextmanager
def run_apache(folder: Path, modules: Sequence[str], site: str) -> Iterator[Server]:
    """Debian's apache2 on a port of its own, from ``folder``: the event MPM, access control
    and ``modules`` (``"rewrite"`` loads ``mod_rewrite.so``), then ``site``, in which
    ``{port}`` stands for the port."""
    import os

    loads = "\n".join(
        f"LoadModule {name}_module {_MODULES}/mod_{name}.so"
        for name in ("mpm_event", "authz_core", *modules)
    )
    user = "User nobody\nGroup nogroup" if os.geteuid() == 0 else ""
    template = _HTTPD_MAIN.format(folder=folder, modules=loads, user=user) + site
    conf = folder / "httpd.conf"
    script = folder / "start-apache.py"
    script.write_text(
        "import os, sys\n"
        f"open({str(conf)!r}, 'w').write({template!r}.replace('{{port}}', sys.argv[1]))\n"
        f"os.execv({APACHE!r}, [{APACHE!r}, '-d', {str(folder)!r}, '-f', {str(conf)!r}, "
        "'-DFOREGROUND'])\n"
    )
    with serve([sys.executable, str(script), "{port}"]) as server:
        yield server


@contextmanager
def apache(config: str, folder: Path) -> Iterator[Server]:
    """Debian's Apache serving ``config`` (a VirtualHost-level include) in front of a 200."""
    (folder / "redirects.apache.conf").write_text(config)
    site = (
        "<VirtualHost *:{port}>\n"
        f"    Include {folder}/redirects.apache.conf\n"
        "    # The app: whatever passes through gets a 200.\n"
        "    RewriteRule ^ - [R=200,L]\n"
        "</VirtualHost>\n"
    )
    with run_apache(folder, ("rewrite", "headers"), site) as server:
        yield server
