"""Faults injected under real servers while clients send traffic: compiled maps and reloads.

Each test serves a site with a CSV map (tests/fault_sites.py) under gunicorn (several sync
workers) or uvicorn, sends requests from a few client threads, injects one fault, and judges
what every client got: never a 5xx, never an answer from a partial or damaged map (every
redirect is the whole old map's or the whole new one's), and what the server log says. The
figures (failed requests, recovery time, descriptors) are printed (`pytest -s`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fault_sites import (
    Answer,
    Traffic,
    compiled_files,
    csv_text,
    gunicorn,
    make_site,
    site_env,
    uvicorn,
    versions_of,
    write_rows,
)
from tests.servers import GUNICORN

pytestmark = pytest.mark.servers

#: Rows of the site's map: its compiled file spans a few hundred pages, so a lookup reads
#: pages throughout it (the tree's root is written last, at the end).
ROWS = 20_000
WORKERS = 3
#: How long, after a fault, the site may take to answer every request right again.
RECOVERY = 15.0
#: How long a run of right answers must last to count as recovered.
STEADY = 2.0


def _failed(answers: list[Answer]) -> list[Answer]:
    return [a for a in answers if a.failed]


def _wrong(url: str, answers: list[Answer], versions: tuple[str, ...]) -> list[Answer]:
    """Answers that came (a redirect, a pass-through) but not from a whole map version."""
    return [a for a in answers if not a.failed and versions_of(url, a, versions) is None]


def _recovered(url: str, traffic: Traffic, since: float, versions: tuple[str, ...]) -> float:
    """Seconds from ``since`` to the last answer that was not right, once the answers
    have been right for STEADY seconds; fails the test after RECOVERY seconds."""

    def steady(answers: list[Answer]) -> bool:
        bad = [a.received for a in answers if a.sent > since and (
            a.failed or versions_of(url, a, versions) is None)]  # fmt: skip
        last_bad = max(bad, default=since)
        after = [a for a in answers if a.sent > last_bad]
        return bool(after) and after[-1].sent - after[0].sent >= STEADY

    assert traffic.wait(steady, RECOVERY + STEADY), "the site did not recover in time"
    return _last_bad(url, traffic.since(since), versions, since)


def _last_bad(url: str, answers: list[Answer], versions: tuple[str, ...], since: float) -> float:
    """Seconds from ``since`` to the last answer that failed or was not right (0: none)."""
    bad = [a.received for a in answers if a.failed or versions_of(url, a, versions) is None]
    return max(bad, default=since) - since


def _serving(traffic: Traffic, count: int = 20) -> None:
    assert traffic.wait(lambda answers: len(answers) >= count, 30), "no traffic"


def _boots(log: str) -> int:
    return log.count("Booting worker")


def test_a_compiled_map_truncated_under_running_workers_is_rebuilt_and_never_crash_loops(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path / "site", ROWS)
    with gunicorn(site, WORKERS) as server, Traffic(server.url, ROWS) as traffic:
        _serving(traffic)
        (compiled,) = compiled_files(site)
        data = compiled / "data.mdb"
        fault = time.monotonic()
        # A copy interrupted, a disk filled up: the file loses its second half in place.
        os.truncate(data, data.stat().st_size // 2)
        _recovered(server.url, traffic, fault, ("old",))
        log = server.log()
    answers = traffic.since(fault)
    # Measured once every request has come back (one held by a dying worker comes late).
    recovery = _last_bad(server.url, answers, ("old",), fault)
    assert recovery <= RECOVERY
    failed = _failed(answers)
    assert not _wrong(server.url, answers, ("old",)), _wrong(server.url, answers, ("old",))[:5]
    assert all(a.status is None for a in failed), "a 5xx, where only a dying worker may fail"
    # Each worker that had the file mapped may die once (SIGBUS: a read past the end);
    # the requests it held fail with it. Not more: a replacement checks the file first.
    assert len(failed) <= 2 * WORKERS, failed
    assert "is damaged (data.mdb has" in log, log[-3000:]
    # While the replacements check the file and compile it, requests wait in the queue.
    waited = max(a.received - a.sent for a in answers)
    assert waited <= RECOVERY
    print(f"\ntruncated under {WORKERS} workers: {len(failed)} failed requests of "
          f"{len(answers)}, the last {recovery:.1f} s after the fault; the longest wait "
          f"{waited:.1f} s; {log.count('SIGBUS')} workers died of SIGBUS, "
          f"{_boots(log)} worker boots")  # fmt: skip

    # Truncated again while the site is down: every worker starts, once.
    (compiled,) = compiled_files(site)
    os.truncate(compiled / "data.mdb", (compiled / "data.mdb").stat().st_size // 2)
    with gunicorn(site, WORKERS) as server, Traffic(server.url, ROWS) as traffic:
        _serving(traffic, 200)
        answers = list(traffic.answers)
        log = server.log()
    assert not _failed(answers) and not _wrong(server.url, answers, ("old",))
    assert _boots(log) == WORKERS, log[-3000:]
    assert "is damaged (data.mdb has" in log


def test_a_compiled_map_overwritten_with_junk_falls_back_to_the_csv_without_a_5xx(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path / "site", ROWS)
    with gunicorn(site, WORKERS) as server, Traffic(server.url, ROWS) as traffic:
        _serving(traffic)
        (compiled,) = compiled_files(site)
        data = compiled / "data.mdb"
        size = data.stat().st_size
        fault = time.monotonic()
        # Junk over the second half, in place: same file, same size, pages of garbage.
        with data.open("r+b") as handle:
            handle.seek(size // 2)
            handle.write(os.urandom(size - size // 2))
        _serving(traffic, len(traffic.answers) + 300)
        _recovered(server.url, traffic, fault, ("old",))
        log = server.log()
    answers = traffic.since(fault)
    recovery = _last_bad(server.url, answers, ("old",), fault)
    assert not _wrong(server.url, answers, ("old",)), _wrong(server.url, answers, ("old",))[:5]
    assert not _failed(answers), _failed(answers)[:5]
    # Each worker logs the failure once, then answers from the CSV in memory.
    fell_back = log.count("its rows are served from the CSV in memory")
    assert 1 <= fell_back <= WORKERS, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    print(f"\njunk under {WORKERS} workers: {len(answers)} requests, 0 failed, "
          f"{fell_back} workers fell back to memory, {_boots(log) - WORKERS} restarted; "
          f"right again after {recovery:.1f} s")  # fmt: skip

    # The damaged file was removed by the first worker that met it (a worker that started
    # since, if one died reading junk, compiled it again). Compiled ahead again, and damaged
    # while the site is down (junk over half passes a check that only opens it).
    subprocess.run(
        [sys.executable, "-m", "redirectware", "compile", str(site / "redirects.yaml")],
        check=True,
        capture_output=True,
        env={**os.environ, **site_env(site)},
    )
    (compiled,) = compiled_files(site)
    data = compiled / "data.mdb"
    size = data.stat().st_size
    with data.open("r+b") as handle:
        handle.seek(size // 2)
        handle.write(os.urandom(size - size // 2))
    with gunicorn(site, WORKERS) as server, Traffic(server.url, ROWS) as traffic:
        _serving(traffic, 200)
        answers = list(traffic.answers)
        log = server.log()
    assert not _failed(answers) and not _wrong(server.url, answers, ("old",))
    assert "does not match the checksum written with it); compiling it again" in log, log[-3000:]
    assert "its rows are served from the CSV in memory" not in log


#: Where a small file system cannot be mounted: gunicorn with a limit on the size of any file
#: it writes (RLIMIT_FSIZE), so that a write past it fails (EFBIG) as on a full disk
#: (ENOSPC). SIGXFSZ, which would kill the writer, is ignored, and stays ignored through exec.
#: The server's log is written under the same limit: it stays far below it.
FSIZE_LIMIT = 256 * 1024
LIMITED_GUNICORN = [
    sys.executable,
    "-c",
    "import os, resource, signal, sys\n"
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
    f"resource.setrlimit(resource.RLIMIT_FSIZE, ({FSIZE_LIMIT}, {FSIZE_LIMIT}))\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'gunicorn', *sys.argv[1:]])",
]


@dataclass(frozen=True)
class FullDisk:
    """A folder for the map cache that fills up, and how to start gunicorn against it."""

    folder: Path
    launcher: list[str]


@pytest.fixture(params=["tmpfs", "file-size-limit"])
def full_disk(request: pytest.FixtureRequest) -> Iterator[FullDisk]:
    """A 64 KiB tmpfs (a real ENOSPC; mounting needs root, which CI has), or a file size
    limit on the server (anywhere)."""
    folder = Path(tempfile.mkdtemp(prefix="redirectware-full-"))
    if request.param == "file-size-limit":
        try:
            yield FullDisk(folder, LIMITED_GUNICORN)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield FullDisk(folder, GUNICORN)
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


def test_a_full_disk_for_the_map_cache_serves_from_memory_and_leaves_nothing_behind(
    tmp_path: Path, full_disk: FullDisk
) -> None:
    site = make_site(tmp_path / "site", ROWS, map_cache=str(full_disk.folder))
    with (
        gunicorn(site, 2, reload=True, interval=0.5, launcher=full_disk.launcher) as server,
        Traffic(server.url, ROWS) as traffic,
    ):
        _serving(traffic)
        # An edit while the disk is full: compiled again, into memory again.
        edited = site / "legacy.csv.new"
        write_rows(edited, "new", ROWS)
        edit = time.monotonic()
        edited.replace(site / "legacy.csv")
        assert traffic.wait(
            lambda answers: any(versions_of(server.url, a, ("new",)) for a in answers), 30
        )
        _recovered(server.url, traffic, edit, ("new",))
        log = server.log()
    answers = list(traffic.answers)
    assert not _failed(answers), _failed(answers)[:5]
    assert not _wrong(server.url, answers, ("old", "new")), _wrong(server.url, answers,
                                                                    ("old", "new"))[:5]  # fmt: skip
    # One warning per process, naming the cause; no traceback; the scratch files are gone.
    assert log.count("loaded in memory instead") == 2, log[-3000:]
    # LMDB words a full disk as it likes ("Input/output error" from mdb_txn_commit).
    assert f"could not write its compiled file ({full_disk.folder}: " in log
    assert "Traceback" not in log, log[-3000:]
    assert list(full_disk.folder.iterdir()) == []


def _descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1))


EDITS = 20


def test_map_edits_close_what_they_replaced_and_keep_two_compiled_files(tmp_path: Path) -> None:
    rows = 2_000
    site = make_site(tmp_path / "site", rows)
    with (
        uvicorn(site, reload=True, interval=0.2) as server,
        Traffic(server.url, rows, clients=2) as traffic,
    ):
        _serving(traffic)
        pid = server.process.pid
        before, rss_before = _descriptors(pid), _rss_kib(pid)
        for edit in range(EDITS):
            version = f"v{edit}"
            fresh = site / "legacy.csv.new"
            write_rows(fresh, version, rows)
            fresh.replace(site / "legacy.csv")
            assert traffic.wait(
                lambda answers, v=version: any(  # type: ignore[misc]
                    versions_of(server.url, a, (v,)) for a in answers[-20:]
                ),
                30,
            ), f"edit {edit} not served"
        after, rss_after = _descriptors(pid), _rss_kib(pid)
        listed = sorted(p.name for p in (site / ".redirectware").iterdir())
    answers = list(traffic.answers)
    assert not _failed(answers), _failed(answers)[:5]
    versions = ("old", *(f"v{edit}" for edit in range(EDITS)))
    assert not _wrong(server.url, answers, versions)
    # The superseded environments were closed: no descriptor per edit.
    assert after <= before + 2, (before, after)
    # The current compiled file and the one before it; no scratch folder.
    assert len(listed) == 2 and all(name.startswith("legacy.csv.") for name in listed), listed
    print(f"\n{EDITS} map edits under uvicorn: descriptors {before} -> {after}, "
          f"RSS {rss_before} -> {rss_after} KiB")  # fmt: skip


def test_a_csv_rewritten_in_place_is_compiled_only_once_it_holds_still(tmp_path: Path) -> None:
    rows = 3_000
    site = make_site(tmp_path / "site", rows)
    text = csv_text("new", rows)
    chunks = 40
    step = len(text) // chunks + 1
    with (
        gunicorn(site, 2, reload=True, interval=1.0) as server,
        Traffic(server.url, rows) as traffic,
    ):
        _serving(traffic)
        paced = traffic._stop  # never set while writing: paces the writer without sleep()
        # As an editor or a shell's `>` writes: truncate, then write in pieces (flushed,
        # so each look may find the file half-written, cut at a line break or mid-row).
        with (site / "legacy.csv").open("w", encoding="utf-8") as handle:
            for start in range(0, len(text), step):
                handle.write(text[start : start + step])
                handle.flush()
                paced.wait(0.05)
        written = time.monotonic()
        assert traffic.wait(
            lambda answers: any(
                versions_of(server.url, a, ("new",)) for a in answers if a.sent > written
            ),
            30,
        ), "the new map was never served"
        _recovered(server.url, traffic, written, ("new",))
    answers = list(traffic.answers)
    assert not _failed(answers), _failed(answers)[:5]
    # Every answer is the whole old map's or the whole new one's: never a row missing (a
    # pass-through, 404) nor a target cut short (/m/125 -> /new/).
    wrong = _wrong(server.url, answers, ("old", "new"))
    assert not wrong, (len(wrong), wrong[:5])
    assert not any(versions_of(server.url, a, ("new",)) for a in answers if a.received < written)


#: Runs ``redirectware check FILE`` as the user ``nobody``: root reads any file, whatever
#: its mode. The interpreter imports what it needs first (as root: it lives in a folder
#: only root may enter here), then drops its privileges.
CHECK_AS_NOBODY = """
import os, sys
import csv, hashlib, json, lmdb, yaml
import redirectware.cli, redirectware.cli.check, redirectware.ruleset
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
sys.exit(redirectware.cli.main(["check", sys.argv[1]]))
"""


@pytest.fixture
def nobody_folder() -> Iterator[Path]:
    """A folder the user ``nobody`` owns (pytest's own are root's alone)."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to run the server's workers as another user")
    folder = Path(tempfile.mkdtemp(prefix="redirectware-nobody-"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_an_unreadable_csv_is_a_rule_error_at_check_and_on_reload(nobody_folder: Path) -> None:
    rows = 2_000
    site = make_site(nobody_folder / "site", rows)
    for path in [site, *site.iterdir()]:
        os.chown(path, 65534, 65534)
    csv = site / "legacy.csv"
    # Workers run as nobody; the app is loaded (as root) before they fork.
    extra = ("--preload", "--user", "nobody", "--group", "nogroup")
    with (
        gunicorn(site, 2, *extra, reload=True, interval=0.5) as server,
        Traffic(server.url, rows) as traffic,
    ):
        _serving(traffic)
        # An edit that nobody may read: the workers keep the old rules.
        write_rows(csv, "new", rows)
        csv.chmod(0o000)
        fault = time.monotonic()
        assert traffic.wait(lambda answers: server.log().count("cannot read map file") >= 2, 30)
        traffic.wait(lambda answers: len(traffic.since(fault)) >= 100, 30)
        unreadable = traffic.since(fault)
        # Readable again (and touched: a mode change is no edit): the new rows serve.
        csv.chmod(0o644)
        os.utime(csv)
        fixed = time.monotonic()
        assert traffic.wait(
            lambda answers: any(versions_of(server.url, a, ("new",)) for a in answers[-20:]), 30
        ), server.log()[-3000:]
        log = server.log()
    answers = list(traffic.answers)
    assert not _failed(answers), _failed(answers)[:5]
    assert not _wrong(server.url, answers, ("old", "new"))
    assert all(versions_of(server.url, a, ("old",)) for a in unreadable if a.received < fixed)
    assert "Permission denied" in log and "previous rules still serving" in log
    assert "Traceback" not in log and "PermissionError" not in log, log[-3000:]

    csv.chmod(0o000)
    checked = subprocess.run(
        [sys.executable, "-c", CHECK_AS_NOBODY, str(site / "redirects.yaml")],
        capture_output=True,
        text=True,
        env={**os.environ, **site_env(site)},
        timeout=120,
    )
    output = checked.stdout + checked.stderr
    assert checked.returncode == 1, output
    assert f"cannot read map file {str(csv)!r}: [Errno 13] Permission denied" in output, output
    assert "Traceback" not in output, output
