"""PostgreSQL down under the Django store: the old rules serve, and the log stays readable.

The admin site (tests/admin_site) serves ``map: {database: default}`` and looks at the
table's version every 0.2 s on each gunicorn worker. Its private PostgreSQL is stopped
while clients send traffic, then started again: every answer stays the old rules' redirect,
and each worker logs the failure once with its traceback (not at every look), then once
when the database is back.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests

from tests.admin_servers import ROOT, admin_session, gunicorn, import_csv, prepare, site_env
from tests.postgres import BINDIRS, Cluster, postgres

pytestmark = pytest.mark.servers

WORKERS = 2
INTERVAL = 0.2
#: How long the database stays down: twenty looks per worker.
DOWN = 4.0


def _pg_ctl(data: Path, *argv: str) -> None:
    """Run pg_ctl on the cluster, as its owner (PostgreSQL refuses to run as root)."""
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    command = [*as_user, str(Path(BINDIRS[0]) / "pg_ctl"), "-D", str(data), *argv]
    subprocess.run(command, check=True, capture_output=True, cwd=data.parent, timeout=120)


def _data_directory(cluster: Cluster) -> Path:
    with psycopg.connect(host=cluster.host, port=cluster.port, dbname=cluster.name,
                         user="postgres") as connection:  # fmt: skip
        row = connection.execute("SHOW data_directory").fetchone()
    assert row is not None
    return Path(row[0])


def test_a_database_down_keeps_the_old_rules_and_logs_once_then_once_recovered() -> None:
    with postgres() as cluster:
        data = _data_directory(cluster)
        env = site_env(cluster.spec, INTERVAL)
        # This checkout's package before any installed one (the site's path is the root's).
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env["PYTHONPATH"]])
        prepare(env)
        with gunicorn(env, WORKERS) as server:
            session = admin_session(server.url)
            imported = import_csv(session, server.url, "from,to\n/start,/end1\n",
                                  accept_warnings=True)  # fmt: skip
            assert "1 rows added" in imported.text, imported.text[-2000:]
            old = f"{server.url}/end1"
            answers: list[tuple[float, int | None, str | None]] = []
            stop = threading.Event()

            def ask() -> None:
                while not stop.is_set():
                    sent = time.monotonic()
                    got: tuple[float, int | None, str | None]
                    try:
                        answer = requests.get(
                            f"{server.url}/start",
                            allow_redirects=False,
                            headers={"Connection": "close"},
                            timeout=30,
                        )
                        got = (sent, answer.status_code, answer.headers.get("Location"))
                    except requests.RequestException:
                        got = (sent, None, None)
                    answers.append(got)

            def served_by_all() -> bool:
                # Every worker has the imported row: a run of right answers on fresh
                # connections, which gunicorn spreads over its workers.
                last = answers[-20:]
                return len(last) == 20 and all(location == old for _, _, location in last)

            clients = [threading.Thread(target=ask, daemon=True) for _ in range(3)]
            for client in clients:
                client.start()
            try:
                deadline = time.monotonic() + 30
                while not served_by_all():
                    assert time.monotonic() < deadline, answers[-5:]
                    stop.wait(0.05)
                before = server.log()
                ready = time.monotonic()
                _pg_ctl(data, "-m", "fast", "-w", "stop")
                down = time.monotonic()
                stop.wait(DOWN)
                during = server.log()[len(before) :]
                options = (f"-p {cluster.port} -k {data.parent} "
                           "-c listen_addresses=127.0.0.1 -c fsync=off")  # fmt: skip
                log_file = str(data.parent / "server.log")
                _pg_ctl(data, "-l", log_file, "-o", options, "-w", "start")
                up = time.monotonic()
                deadline = up + 30
                while server.log().count("recovered after") < WORKERS:
                    assert time.monotonic() < deadline, server.log()[-3000:]
                    stop.wait(0.05)
                stop.wait(1.0)  # answers after the recovery, too
            finally:
                stop.set()
                for client in clients:
                    client.join(30)
            log = server.log()[len(before) :]
    assert [a for a in answers if a[1] is None or a[1] >= 500] == []
    # The old rules the whole time: before, while the database was down, after.
    assert {location for sent, _, location in answers if sent > ready} == {old}
    assert any(down < at < up for at, _, _ in answers)
    failures = "not reloaded, previous rules still serving"
    # Once per worker, with its traceback; no reminder within the minute; once recovered.
    assert during.count(failures) == WORKERS, during[-3000:]
    assert during.count(" ERROR redirectware: ") == WORKERS, during[-3000:]
    # psycopg's error, then Django's raised from it: two tracebacks in one record.
    assert during.count("Traceback (most recent call last)") == 2 * WORKERS, during[-3000:]
    assert "still failing" not in log
    assert log.count("recovered after") == WORKERS
    looks = int(DOWN / INTERVAL) * WORKERS
    print(f"\ndatabase down {DOWN:.0f} s (~{looks} looks): {len(during.splitlines())} log "
          f"lines; {len(answers)} requests, all answered by the old rules")  # fmt: skip
