"""The source tools' own servers as judges: Debian's apache2 with an ``.htaccess`` in a
document root, and Debian's nginx with a whole configuration file (its ``server`` blocks).

Each server runs on 127.0.0.1 on a port :func:`tests.servers.serve` chooses, from a folder
of the test's own, and is stopped when the ``with`` block ends. Whatever no redirect takes
gets a 200 from the server itself ("the app"), so that a redirect is told from a pass.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.edge_servers import NGINX, run_apache
from tests.servers import Server, serve

#: The site of the document root whose ``.htaccess`` is judged.
_HTACCESS_SITE = """\
# No .htaccess above the document root is read (a stray /tmp/.htaccess would be).
<Directory />
    AllowOverride None
</Directory>
DocumentRoot {folder}/docroot
<Directory {folder}/docroot>
    AllowOverride All
    Require all granted
</Directory>
# What no redirect takes is "the app": a 200 for every path, files or not.
ErrorDocument 404 "app"
"""


@contextmanager
def apache_htaccess(htaccess: str, folder: Path) -> Iterator[Server]:
    """Debian's apache2 with ``htaccess`` as the ``.htaccess`` of its document root."""
    docroot = folder / "docroot"
    docroot.mkdir(parents=True, exist_ok=True)
    (docroot / ".htaccess").write_text(htaccess, encoding="utf-8")
    (docroot / "index.html").write_text("app", encoding="utf-8")
    # The server's user reads the document root.
    for path in (folder, docroot, docroot / ".htaccess", docroot / "index.html"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    for parent in folder.parents:
        if parent.stat().st_mode & 0o005 != 0o005 and os.geteuid() == 0:
            parent.chmod(parent.stat().st_mode | 0o005)
    site = _HTACCESS_SITE.format(folder=folder)
    with run_apache(folder, ("rewrite", "alias", "dir"), site) as server:
        yield server


_NGINX_MAIN = """\
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
    # The corpus's servers have long names (several subdomains).
    server_names_hash_bucket_size 128;
    map_hash_bucket_size 256;
    # One self-signed certificate for every TLS listen: the tests do not verify it.
    ssl_certificate {folder}/cert.pem;
    ssl_certificate_key {folder}/key.pem;
    include {folder}/site.conf;
}}
"""

#: Directives of a corpus file that name the production machine (files, logs, TLS
#: material, included snippets): left out so that the file runs here. None decides a redirect.
_MACHINE = re.compile(
    r"\s*(ssl_certificate\w*|include|access_log|error_log|http2|ssl_stapling\w*|"
    r"ssl_trusted_certificate)\b"
)


def nginx_site(config: str) -> str:
    """A corpus file made servable: each server's plain ``listen`` on the test's plain port
    (written ``{port}``), each TLS one on its TLS port (``{tls_port}``), what names the
    production machine left out. Locations, returns, rewrites, maps and names are kept."""
    kept: list[str] = []
    listened: set[str] = set()
    for line in config.splitlines():
        stripped = line.strip()
        if re.match(r"server\s*\{", stripped):
            listened = set()
        if stripped.startswith("listen "):
            tls = " ssl" in stripped or stripped.rstrip(";").split()[1].endswith(":443")
            listen = "listen 127.0.0.1:{tls_port} ssl;" if tls else "listen 127.0.0.1:{port};"
            if listen not in listened:
                listened.add(listen)
                kept.append("    " + listen)
            continue
        if _MACHINE.match(line):
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


@contextmanager
def nginx_config(site: str, folder: Path) -> Iterator[tuple[Server, int]]:
    """Debian's nginx serving ``site`` (see :func:`nginx_site`): the server (its plain port)
    and the TLS port."""
    import socket
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / name).mkdir(exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=localhost", "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with socket.socket() as probe:  # a free port for TLS, chosen as the plain one is
        probe.bind(("127.0.0.1", 0))
        tls_port = probe.getsockname()[1]
    # Both ports always listen (the server is ready once the plain one answers), and a
    # request for a name no server of the file has gets a 200 here, not a file's server.
    site = (
        "server {\n    listen 127.0.0.1:{port} default_server;\n"
        "    listen 127.0.0.1:{tls_port} ssl default_server;\n    return 200 'judge';\n}\n" + site
    )
    main = _NGINX_MAIN.format(folder=folder)
    site_path, conf = folder / "site.conf", folder / "nginx.conf"
    script = folder / "start-nginx.py"
    script.write_text(
        "import os, sys\n"
        f"open({str(conf)!r}, 'w').write({main!r})\n"
        f"open({str(site_path)!r}, 'w').write({site!r}.replace('{{port}}', sys.argv[1])"
        f".replace('{{tls_port}}', {str(tls_port)!r}))\n"
        f"os.execv({NGINX!r}, [{NGINX!r}, '-p', {str(folder)!r}, '-c', {str(conf)!r}, "
        "'-g', 'daemon off;'])\n"
    )
    with serve([sys.executable, str(script), "{port}"]) as server:
        yield server, tls_port


def ask(port: int, tls: bool, method: str, target: str, host: str) -> tuple[int, str | None]:
    """One request to a judge server on 127.0.0.1: its status and Location."""
    import http.client
    import ssl

    connection: http.client.HTTPConnection
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, target, headers={"Host": host, "Content-Length": "0"})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location")
    finally:
        connection.close()
