"""A private PostgreSQL server for a test: its own cluster in a temporary folder, on a port of
127.0.0.1 no one else uses, stopped and removed afterwards.

Debian's ``postgresql`` package provides the binaries (``.ci/run`` installs it when missing).
PostgreSQL refuses to run as root; as root the cluster belongs to the ``postgres`` system
user the package creates, and its commands run as that user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: The package's binaries, newest version first.
BINDIRS = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
NAME = "redirectware"


@dataclass(frozen=True)
class Cluster:
    """A running server: where it listens and the database made for the test."""

    host: str
    port: int
    name: str

    @property
    def spec(self) -> str:
        """The ``ADMIN_SITE_DB`` value of tests/admin_site."""
        return f"postgres:{self.host}:{self.port}:{self.name}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def postgres() -> Iterator[Cluster]:
    """Start a cluster, create a database, yield it; stop and remove it at the end."""
    if not BINDIRS:
        raise RuntimeError(
            "PostgreSQL is not installed: apt-get install -y --no-install-recommends postgresql"
        )
    bindir = Path(BINDIRS[0])
    folder = Path(tempfile.mkdtemp(prefix="redirectware-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    port = _free_port()

    def run(*argv: str) -> None:
        subprocess.run([*as_user, *argv], check=True, capture_output=True, cwd=folder)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(folder / "server.log")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", log, "-o", options, "-w", "start")
        try:
            run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                NAME)  # fmt: skip
            yield Cluster("127.0.0.1", port, NAME)
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
