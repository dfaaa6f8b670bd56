"""Start a real HTTP server in a subprocess on 127.0.0.1, wait until it answers, always stop it.

The test binds a listening socket on an ephemeral port itself and hands it to the server as a
file descriptor (``uvicorn --fd {fd}``, ``gunicorn --bind fd://{fd}``). That has two merits:
no other process can take the port between choosing and binding it, and readiness needs no
polling: the kernel queues our first request on the socket until the server starts accepting,
so one request with a deadline *is* the wait. If the server dies instead, the socket closes
with it and the request fails at once, and the error shows the server's output.

Servers that cannot take a descriptor get ``{port}`` instead; the port is free when the
socket is closed just before the server starts, and readiness is polled with a deadline.
waitress has no option for a descriptor, so :data:`WAITRESS` runs it through this module,
which hands it the inherited socket (``python -m tests.servers --fd {fd} module:app``).

Usage::

    with serve([*UVICORN, "app:app", "--fd", "{fd}"], cwd=folder) as server:
        httpx.get(server.url + "/healthz")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

#: The servers, run by this interpreter so that they see the same installed packages.
UVICORN = [sys.executable, "-m", "uvicorn"]
GUNICORN = [sys.executable, "-m", "gunicorn"]
#: waitress on an inherited socket: ``[*WAITRESS, "--fd", "{fd}", "module:app"]``, run from
#: the repository root (``cwd=ROOT``) so that ``tests`` can be imported.
WAITRESS = [sys.executable, "-m", "tests.servers"]

#: This checkout's package, put first on every server's ``PYTHONPATH``.
SRC = str(Path(__file__).resolve().parent.parent / "src")
#: Generous: a cold start of Django or FastAPI on a loaded 2-core CI machine takes seconds.
START_TIMEOUT = 60.0
#: How long a server gets to stop on SIGTERM before it is killed.
STOP_TIMEOUT = 15.0


class ServerError(RuntimeError):
    """The server did not start; the message holds its output."""


@dataclass
class Server:
    """A running server: where it listens, and its process and output."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _listening_socket(receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        # Set before listen(): accepted connections inherit it, and a fixed size turns off
        # the kernel's autotuning, so a body overflows the buffers as it would on a slow
        # network rather than vanishing into loopback's megabytes.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _exit_code(process: subprocess.Popen[bytes]) -> int | None:
    # A dead server closes its socket a moment before it can be reaped: give it that moment.
    try:
        return process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return None


def _wait_ready(server: Server, ready_path: str, *, polled: bool, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ServerError(f"not ready after {timeout:.0f}s:\n{server.log()}")
        try:
            # Any HTTP answer means the server is serving, even a redirect or a 503; a TLS
            # server's certificate is the test's own, not one to check here.
            httpx.get(server.url + ready_path, timeout=remaining, verify=False)
            return
        except httpx.TransportError as error:
            if not polled or server.process.poll() is not None:
                code = _exit_code(server.process)
                message = f"server failed ({error!r}, exit {code}):\n{server.log()}"
                raise ServerError(message) from None
        # Polled mode only: wait on the process (returns early if it dies), not a bare sleep.
        try:
            server.process.wait(timeout=min(0.1, max(remaining, 0.01)))
        except subprocess.TimeoutExpired:
            continue


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    ready_path: str = "/",
    timeout: float = START_TIMEOUT,
    receive_buffer: int | None = None,
    scheme: str = "http",
) -> Iterator[Server]:
    """Run ``command`` until the ``with`` block ends; yield a :class:`Server` once it answers.

    :param command: the server's argv; ``{fd}`` is replaced with a listening socket's descriptor
        (preferred), ``{port}`` with its port.
    :param scheme: ``https`` for a server that speaks TLS on the socket.
    :param env: variables added to (or overriding) this process's environment.
    :param ready_path: the path requested to learn that the server is up (any status will do).
    :param receive_buffer: ``SO_RCVBUF`` of the server's connections, in bytes (descriptor
        mode only); None leaves the kernel's default.
    """
    sock = _listening_socket(receive_buffer)
    port: int = sock.getsockname()[1]
    passes_fd = any("{fd}" in part for part in command)
    argv = [part.format(fd=sock.fileno(), port=port) for part in command]
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    # The checkout's own package first, whichever one the interpreter has installed: a
    # server started from another work tree of the repository runs that tree's code.
    paths = [part for part in child_env.get("PYTHONPATH", "").split(os.pathsep) if part]
    if SRC not in paths:
        child_env["PYTHONPATH"] = os.pathsep.join([SRC, *paths])
    with tempfile.TemporaryDirectory(prefix="redirectware-server-") as folder:
        log_path = Path(folder) / "server.log"
        with log_path.open("wb") as log:
            if not passes_fd:
                sock.close()  # free the port for the server to bind
            try:
                process = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env=child_env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=[sock.fileno()] if passes_fd else [],
                )
            finally:
                # The child holds its own copy; ours must go so that a dead server closes it.
                sock.close()
            server = Server(f"{scheme}://127.0.0.1:{port}", port, process, log_path)
            try:
                _wait_ready(server, ready_path, polled=not passes_fd, timeout=timeout)
                yield server
            finally:
                _stop(process)


def _serve_waitress(argv: Sequence[str]) -> None:
    """``--fd N module:attr``: serve that WSGI app with waitress on the inherited socket."""
    import argparse
    import importlib

    import waitress

    parser = argparse.ArgumentParser(prog="python -m tests.servers")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("app", help="module:attribute of a WSGI app")
    args = parser.parse_args(argv)
    module, _, attribute = args.app.partition(":")
    app = getattr(importlib.import_module(module), attribute)
    sock = socket.socket(fileno=args.fd)
    waitress.serve(app, sockets=[sock], _quiet=True)


if __name__ == "__main__":
    _serve_waitress(sys.argv[1:])
