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

from tests.edge_servers import APACHE, NGINX
from tests.servers import Server, serve

_MODULES = "/usr/lib/apache2/modules"
_HTACCESS_CONF = """\
ServerRoot {folder}
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule rewrite_module {modules}/mod_rewrite.so
LoadModule alias_module {modules}/mod_alias.so
LoadModule dir_module {modules}/mod_dir.so
PidFile {folder}/httpd.pid
ErrorLog {folder}/error.log
Listen 127.0.0.1:{{port}}
ServerName localhost
{user}
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
    user = "User nobody\nGroup nogroup" if os.geteuid() == 0 else ""
    template = _HTACCESS_CONF.format(folder=folder, modules=_MODULES, user=user)
    # The server's user reads the document root.
    for path in (folder, docroot, docroot / ".htaccess", docroot / "index.html"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    for parent in folder.parents:
        if parent.stat().st_mode & 0o005 != 0o005 and os.geteuid() == 0:
            parent.chmod(parent.stat().st_mode | 0o005)
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
    # Names of the corpus's servers can be long (several subdomains).
    server_names_hash_bucket_size 128;
    map_hash_bucket_size 256;
    include {folder}/site.conf;
}}
"""


def nginx_site(config: str) -> str:
    """A corpus file made servable: each ``listen`` on the test's port (written ``{port}``,
    filled in when it is known), TLS and files it names left out. What decides a redirect
    (locations, returns, rewrites, maps, server names) is kept as written."""
    kept: list[str] = []
    for line in config.splitlines():
        stripped = line.strip()
        if re.match(r"(listen|ssl_\w+|include|access_log|error_log|root|alias|"
                     r"proxy_pass|fastcgi_pass|uwsgi_pass|http2)\b", stripped):  # fmt: skip
            indent = line[: len(line) - len(line.lstrip())]
            if stripped.startswith("listen") and not kept_listen(kept):
                kept.append(indent + "listen 127.0.0.1:{port};")
            elif stripped.startswith("listen"):
                continue
            elif stripped.startswith(("proxy_pass", "fastcgi_pass", "uwsgi_pass")):
                kept.append(indent + 'return 200 "app";')
            continue
        kept.append(line)
        if stripped.startswith("server") and stripped.endswith("{"):
            kept.append("    #listen-slot")
    text = "\n".join(kept) + "\n"
    # A server without its own listen (the file's first listen was in another) gets one.
    return text.replace("    #listen-slot\n", "    listen 127.0.0.1:{port};\n").replace(
        "listen 127.0.0.1:{port};\n    listen 127.0.0.1:{port};", "listen 127.0.0.1:{port};"
    )


def kept_listen(lines: list[str]) -> bool:
    """Whether the server block being copied already listens on the test's port."""
    for line in reversed(lines):
        if "listen 127.0.0.1:{port}" in line:
            return True
        if line.strip().startswith("server") and line.strip().endswith("{"):
            return False
    return False


@contextmanager
def nginx_config(site: str, folder: Path) -> Iterator[Server]:
    """Debian's nginx serving ``site`` (``server`` blocks, ``{port}`` where they listen)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / name).mkdir(exist_ok=True)
    main = _NGINX_MAIN.format(folder=folder)
    site_path, conf = folder / "site.conf", folder / "nginx.conf"
    script = folder / "start-nginx.py"
    script.write_text(
        "import os, sys\n"
        f"open({str(conf)!r}, 'w').write({main!r})\n"
        f"open({str(site_path)!r}, 'w').write({site!r}.replace('{{port}}', sys.argv[1]))\n"
        f"os.execv({NGINX!r}, [{NGINX!r}, '-p', {str(folder)!r}, '-c', {str(conf)!r}, "
        "'-g', 'daemon off;'])\n"
    )
    with serve([sys.executable, str(script), "{port}"]) as server:
        yield server
