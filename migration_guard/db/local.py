"""A private PostgreSQL server started from local binaries (embedded wheel or system).

``initdb -N`` runs once per binary build into a cached template cluster; each run copies
that cluster (or a cached snapshot with base migrations applied) into a private short
directory (``/dev/shm`` when present), spawns ``postgres`` directly on a unix socket in
that directory with durability off and no TCP listener, and deletes it all afterwards.
Cache entries are built in marked temp dirs and published by ``rename``, so concurrent
runs never see a half-written entry and never use one in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from migration_guard.db import tempdirs
from migration_guard.db.base import Database
from migration_guard.db.binaries import Bindir, ChildSetup, RunAs, child_env, chown_tree
from migration_guard.errors import GuardError

RUN_PREFIX = "mg-"
CACHE_TMP_PREFIX = "tmp-"
SNAPSHOT_DB = "mg_snapshot"
SUPERUSER = "postgres"
MAX_SNAPSHOTS = 8
SERVER_SETTINGS = (
    "listen_addresses=", "fsync=off", "synchronous_commit=off", "full_page_writes=off",
    "wal_level=minimal", "max_wal_senders=0", "autovacuum=off", "logging_collector=off",
    "unix_socket_permissions=0700",
)


def default_run_parent() -> Path:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    return Path("/tmp")


class LocalServer:
    """One private server; use :func:`migration_guard.db.provider.open_server` to get one."""

    def __init__(self, bindir: Bindir, *, cache_dir: Path, run_as: RunAs | None,
                 snapshot_key: str | None = None, run_parent: Path | None = None,
                 start_timeout_s: float = 30.0) -> None:
        self.kind = bindir.kind
        self.bindir = bindir.path
        self.cache_dir = cache_dir
        self.run_as = run_as
        self.run_parent = run_parent or default_run_parent()
        self.start_timeout_s = start_timeout_s
        self.owner = tempdirs.current_owner(secrets.token_hex(8))
        self.build_key = _build_key(bindir.path)
        self.snapshot_key = snapshot_key
        self.snapshot_template: str | None = None
        self.version = 0
        self.run_dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.admin: psycopg.Connection[tuple[object, ...]] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        tempdirs.reap_stale_dirs(self.run_parent, RUN_PREFIX)
        tempdirs.reap_stale_dirs(self.cache_dir, CACHE_TMP_PREFIX)
        self.run_dir = tempdirs.make_owned_dir(self.run_parent, RUN_PREFIX, self.owner)
        self.run_dir.chmod(0o700)
        snapshot = self._snapshot_path()
        if snapshot is not None and snapshot.is_dir() and self._copy_in(snapshot):
            self.snapshot_template = SNAPSHOT_DB
        else:
            self._prepare_cluster()
        if self.run_as is not None and self.datadir.stat().st_uid != self.run_as.uid:
            chown_tree(self.run_dir, self.run_as)  # cache written by another account
        else:
            os.chown(self.run_dir, *(self.run_as or (os.getuid(), os.getgid())))
        self._spawn()

    def stop(self) -> None:
        """Stop the server and delete its directory; safe to call more than once."""
        if self.admin is not None:
            with contextlib.suppress(psycopg.Error):
                self.admin.close()
            self.admin = None
        self._stop_process(discard=True)
        if self.run_dir is not None:
            tempdirs.remove_dir(self.run_dir)
            self.run_dir = None

    @property
    def datadir(self) -> Path:
        assert self.run_dir is not None, "server not started"
        return self.run_dir / tempdirs.DATA

    def conninfo(self, dbname: str) -> str:
        assert self.run_dir is not None, "server not started"
        return psycopg.conninfo.make_conninfo(
            host=str(self.run_dir), port=5432, user=SUPERUSER, dbname=dbname
        )

    # -- databases -----------------------------------------------------------------------

    def create_database(self, *, template: str | None = None) -> Database:
        name = f"mg_{os.getpid()}_{secrets.token_hex(4)}"
        sql = f'CREATE DATABASE "{name}"'
        if template is not None:
            sql += f' TEMPLATE "{template}"'
        if self.version >= 150000:
            sql += " STRATEGY FILE_COPY"
        self._admin().execute(sql.encode())
        return Database(name, self.conninfo(name))

    def drop_database(self, database: Database) -> None:
        self._admin().execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)'.encode())

    def save_snapshot(self, database: Database) -> str:
        """Publish ``database`` to the cache as the snapshot for this server's key.

        The server is stopped for the copy (a running cluster's files are not consistent)
        and restarted on the same socket, so conninfo strings stay valid.
        """
        self._admin().execute(f'DROP DATABASE IF EXISTS "{SNAPSHOT_DB}" WITH (FORCE)'.encode())
        # A pooled engine left behind by user code (an env.py) would block the copy.
        self._admin().execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", [database.name])
        self._admin().execute(
            f'CREATE DATABASE "{SNAPSHOT_DB}" TEMPLATE "{database.name}"'.encode()
            + (b" STRATEGY FILE_COPY" if self.version >= 150000 else b"")
        )
        snapshot = self._snapshot_path()
        if snapshot is not None:
            self.stop_server_only()
            self._publish(self.datadir, snapshot)
            self._spawn()
            self._evict_old_snapshots()
        self.snapshot_template = SNAPSHOT_DB
        return SNAPSHOT_DB

    def stop_server_only(self) -> None:
        if self.admin is not None:
            self.admin.close()
            self.admin = None
        self._stop_process()

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        assert self.admin is not None, "server not started"
        return self.admin

    # -- cluster preparation -------------------------------------------------------------

    def _cluster_path(self) -> Path:
        return self.cache_dir / f"cluster-{self.build_key}"

    def _snapshot_path(self) -> Path | None:
        if self.snapshot_key is None:
            return None
        digest = hashlib.sha256(f"{self.build_key}\0{self.snapshot_key}".encode()).hexdigest()
        return self.cache_dir / f"snapshot-{digest[:32]}"

    def _prepare_cluster(self) -> None:
        cluster = self._cluster_path()
        if cluster.is_dir() and self._copy_in(cluster):
            return
        assert self.run_dir is not None
        chown_tree(self.run_dir, self.run_as)
        self._initdb(self.datadir)
        self._publish(self.datadir, cluster)

    def _copy_in(self, source: Path) -> bool:
        """Copy a cache entry into our run dir; ``False`` if it vanished meanwhile (evicted)."""
        result = subprocess.run(["cp", "-a", str(source), str(self.datadir)],
                                capture_output=True, timeout=120, check=False)
        if result.returncode != 0:
            tempdirs.remove_dir(self.datadir)
            return False
        return True

    def _publish(self, source: Path, target: Path) -> None:
        """Copy ``source`` to ``target`` atomically; a concurrent publisher may win."""
        if target.is_dir():
            return
        staging = tempdirs.make_owned_dir(self.cache_dir, CACHE_TMP_PREFIX, self.owner)
        try:
            subprocess.run(["cp", "-a", str(source), str(staging / tempdirs.DATA)],
                           capture_output=True, timeout=120, check=True)
            (staging / tempdirs.DATA).rename(target)
            os.utime(target)  # eviction goes by publish time
        except (OSError, subprocess.SubprocessError):
            pass  # another run published first, or the cache is read-only: not fatal
        finally:
            tempdirs.remove_dir(staging)

    def _evict_old_snapshots(self) -> None:
        snapshots = sorted(self.cache_dir.glob("snapshot-*"), key=_mtime, reverse=True)
        for old in snapshots[MAX_SNAPSHOTS:]:
            tempdirs.remove_dir(old)

    def _initdb(self, datadir: Path) -> None:
        args = [str(self.bindir / "initdb"), "-N", "-D", str(datadir), "-U", SUPERUSER,
                "-A", "trust", "-E", "UTF8", "--locale=C"]
        result = subprocess.run(args, capture_output=True, text=True, timeout=300,
                                preexec_fn=ChildSetup(self.run_as), env=child_env(),
                                cwd=str(datadir.parent), check=False)
        if result.returncode != 0:
            raise GuardError(
                f"initdb failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}",
                hint=f"run `{' '.join(args)}` by hand to see why",
            )

    # -- the server process --------------------------------------------------------------

    def _spawn(self) -> None:
        assert self.run_dir is not None
        args = [str(self.bindir / "postgres"), "-D", str(self.datadir), "-k", str(self.run_dir),
                "-p", "5432"]
        for setting in SERVER_SETTINGS:
            args += ["-c", setting]
        with open(self.run_dir / "postgres.log", "ab") as log:
            self.process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=child_env(),
                cwd=str(self.run_dir), preexec_fn=ChildSetup(self.run_as),
                start_new_session=True,  # a terminal's Ctrl-C reaches us, not the server
            )
        self.admin = self._wait_ready()
        self.version = self.admin.info.server_version

    def _wait_ready(self) -> psycopg.Connection[tuple[object, ...]]:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout_s
        conninfo = self.conninfo("postgres")
        while True:
            if self.process.poll() is not None:
                raise GuardError(f"the temporary PostgreSQL server exited at start "
                                 f"(code {self.process.returncode}): {self._log_tail()}")
            try:
                return psycopg.connect(conninfo, autocommit=True, connect_timeout=2)
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise GuardError(
                        f"the temporary PostgreSQL server was not ready after "
                        f"{self.start_timeout_s:g} s: {self._log_tail()}") from None
                time.sleep(0.003)

    def _log_tail(self) -> str:
        assert self.run_dir is not None
        try:
            return (self.run_dir / "postgres.log").read_text(errors="replace")[-2000:].strip()
        except OSError:
            return "(no server log)"

    def _stop_process(self, *, discard: bool = False) -> None:
        """Fast shutdown (SIGINT), or immediate (SIGQUIT) when the data is thrown away;
        escalate to SIGKILL after a bounded wait."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        steps = [(signal.SIGINT, 10.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)]
        for sig, wait_s in steps[1:] if discard else steps:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(wait_s)
                return


def _build_key(bindir: Path) -> str:
    """Identify the server build: path, size and mtime of ``postgres`` (no exec needed)."""
    binary = bindir / "postgres"
    st = binary.stat()
    ident = f"{os.path.realpath(binary)}\0{st.st_size}\0{st.st_mtime_ns}"
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
