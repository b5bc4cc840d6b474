"""Directories this tool owns: created with an owner marker, reaped once their owner is gone.

A marker file holds the owner's pid, its start time (field 22 of ``/proc/<pid>/stat``, so a
reused pid does not count as alive) and a random token. The reaper only ever touches
directories that carry a well-formed marker; before deleting one it stops the PostgreSQL
server still running from it, after checking (``postmaster.pid`` + ``/proc/<pid>/cwd``) that
the process really is a postmaster of that very data directory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from migration_guard.typing_lite import NamedTuple

MARKER = "mg-owner"
DATA = "data"


class Owner(NamedTuple):
    pid: int
    start: str
    token: str


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), ``None`` if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def current_owner(token: str) -> Owner:
    pid = os.getpid()
    return Owner(pid, process_start_time(pid) or "", token)


def make_owned_dir(parent: Path, prefix: str, owner: Owner) -> Path:
    """Create a fresh private directory under ``parent`` and mark it as owned by ``owner``."""
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    (path / MARKER).write_text(f"{owner.pid} {owner.start} {owner.token}\n")
    return path


def read_owner(path: Path) -> Owner | None:
    try:
        fields = (path / MARKER).read_text().split()
    except OSError:
        return None
    if len(fields) != 3 or not fields[0].isdigit():
        return None
    return Owner(int(fields[0]), fields[1], fields[2])


def owner_alive(owner: Owner) -> bool:
    return process_start_time(owner.pid) == owner.start


def reap_stale_dirs(parent: Path, prefix: str) -> list[Path]:
    """Delete our directories under ``parent`` whose owner process is dead; return them."""
    reaped: list[Path] = []
    try:
        entries = [p for p in parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return reaped
    for path in entries:
        owner = read_owner(path)
        if owner is None or owner_alive(owner):
            continue
        stop_stale_postmaster(path / DATA)
        remove_dir(path)
        reaped.append(path)
    return reaped


def remove_dir(path: Path) -> None:
    """Remove ``path``: first rename it aside so no one can mistake a half-deleted dir."""
    doomed = _set_aside(path)
    shutil.rmtree(doomed, ignore_errors=True)


def remove_dir_soon(path: Path) -> None:
    """Rename ``path`` aside at once and delete it in a detached ``rm -rf``.

    Deleting a data directory of thousands of files takes a tenth of a second that nobody
    needs to wait for (``rm`` runs at the lowest priority, behind whatever comes next).
    The renamed directory keeps its prefix and owner marker, so should the ``rm`` die, the
    next run's reaper deletes what is left once this process is gone.
    """
    doomed = _set_aside(path)
    rm, nice = shutil.which("rm"), shutil.which("nice")
    if rm is None or nice is None or not doomed.exists():
        shutil.rmtree(doomed, ignore_errors=True)
        return
    try:  # sh puts rm in the background and exits: rm is never our child to reap
        subprocess.run(["/bin/sh", "-c",
                        'exec "$0" -n 19 "$1" -rf -- "$2" </dev/null >/dev/null 2>&1 &',
                        nice, rm, str(doomed)], check=True, timeout=10, start_new_session=True)
    except (OSError, subprocess.SubprocessError):
        shutil.rmtree(doomed, ignore_errors=True)


def _set_aside(path: Path) -> Path:
    doomed = path.with_name(path.name + ".deleting-" + secrets.token_hex(4))
    try:
        path.rename(doomed)
    except OSError:
        return path
    return doomed


def postmaster_pid(datadir: Path) -> int | None:
    """The pid of the postmaster running from ``datadir``, verified, or ``None``."""
    try:
        lines = (datadir / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 2 or not lines[0].strip().isdigit():
        return None
    pid = int(lines[0])
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return None
    if os.path.basename(cmdline) != b"postgres":
        return None
    same_dir = os.path.realpath(cwd) == os.path.realpath(datadir) == os.path.realpath(lines[1])
    return pid if same_dir else None


def stop_stale_postmaster(datadir: Path, *, wait_s: float = 5.0) -> None:
    pid = postmaster_pid(datadir)
    if pid is None:
        return
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if _wait_gone(pid, wait_s):
            return


def _wait_gone(pid: int, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        stat = process_stat_state(pid)
        if stat == "Z":
            return True
        time.sleep(0.01)
    return False


def process_stat_state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return None


def default_cache_dir() -> Path:
    """The folder of :func:`migration_guard.cache.cache_dir`."""
    from migration_guard.cache import cache_dir

    return Path(cache_dir())
