"""A private PostgreSQL server started from local binaries (embedded wheel or system).

``initdb -N`` runs once per binary build into a cached template cluster; each run unpacks
that cluster (or a cached snapshot with base migrations applied) into a private short
directory (``/dev/shm`` when present), spawns ``postgres`` directly on a unix socket in
that directory with durability off and no TCP listener, and deletes it all afterwards.
Cache entries are tar archives: one sequential read instead of thousands of small files
to open (a snapshot of a thousand tables holds some 6,000 files). They are written in
marked temp dirs and published by ``rename``, so concurrent runs never see a half-written
entry and never use one in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg

from migration_guard.db import tempdirs
from migration_guard.db.base import Database, version_text
from migration_guard.db.binaries import (
    Bindir,
    ChildSetup,
    RunAs,
    build_key,
    child_env,
    chown_tree,
)
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
    # Alembic runs a whole chain in one transaction by default: creating a thousand
    # tables from empty takes more locks than the default lock table holds.
    "max_connections=30", "max_locks_per_transaction=1024",
)
# PostgreSQL 12+: WAL segments are neither zero-filled nor kept for reuse, so a published
# snapshot carries little more WAL than its last checkpoint needs.
WAL_SETTINGS = ("wal_init_zero=off", "wal_recycle=off", "min_wal_size=32MB")
# Databases dropped by the caller are really dropped only past this many: the rest go
# with the data directory at stop, when nobody waits for it.
MAX_PENDING_DROPS = 2


def default_run_parent() -> Path:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    return Path("/tmp")


class LocalServer:
    """One private server; use :func:`migration_guard.db.provider.open_server` to get one.

    The migrations run as its superuser: the cluster is ours alone and thrown away, and
    what they change outside their database (``ALTER SYSTEM``) never reaches the cache.
    """

    mode = "full privileges (a private server of its own)"

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
        self.build_key: str | None = build_key(bindir.path)
        self.snapshot_key = snapshot_key
        self._snapshot_template: str | None = None
        self.version = 0
        self.run_dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.admin: psycopg.Connection[tuple[object, ...]] | None = None
        self.pending_drops: list[Database] = []
        self.notes: list[str] = []
        self._spare: Database | None = None  # a clone of the snapshot made while booting
        self._keeper: threading.Thread | None = None
        self._ready = threading.Event()
        self._release = threading.Event()
        self._failure: BaseException | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, *, background: bool = False) -> None:
        """Boot the server; with ``background``, in a thread, so that the caller's own work
        overlaps it: every method then waits for the boot to finish. That thread also
        makes a spare clone of a restored snapshot, and lives as long as the server: the
        server's parent-death signal is tied to the thread that started it."""
        if not background:
            self._boot()
            return
        self._keeper = threading.Thread(target=self._keep, name="mg-postgres", daemon=True)
        self._keeper.start()

    def _keep(self) -> None:
        try:
            self._boot()
            if self._snapshot_template is not None:
                self._spare = self._create(self._snapshot_template)
        except BaseException as exc:  # handed to the caller by _wait()
            self._failure = exc
        finally:
            self._ready.set()
        self._release.wait()

    def _wait(self) -> None:
        if self._keeper is None:
            return
        self._ready.wait()
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    @property
    def snapshot_template(self) -> str | None:
        self._wait()
        return self._snapshot_template

    @snapshot_template.setter
    def snapshot_template(self, value: str | None) -> None:
        self._snapshot_template = value

    def _boot(self) -> None:
        """Start the server; a failure of the machine (permissions, a missing program, a
        full disk) is a GuardError of one line, never a traceback."""
        try:
            self._boot_steps()
        except (OSError, subprocess.SubprocessError) as exc:
            raise GuardError(
                f"cannot start the temporary PostgreSQL server from {self.bindir}: "
                f"{type(exc).__name__}: {exc}",
                hint="see `migration-guard apply --help` for the servers it can use; as "
                     "root, the server runs as the user migration-guard and must reach "
                     "its binaries") from None

    @property
    def description(self) -> str:
        return f"PostgreSQL {version_text(self.version)} ({self.kind}: {self.bindir})"

    def _boot_steps(self) -> None:
        tempdirs.reap_stale_dirs(self.run_parent, RUN_PREFIX)
        tempdirs.reap_stale_dirs(self.cache_dir, CACHE_TMP_PREFIX)
        self.run_dir = tempdirs.make_owned_dir(self.run_parent, RUN_PREFIX, self.owner)
        self.run_dir.chmod(0o700)
        snapshot = self._snapshot_path()
        if snapshot is not None and self._unpack(snapshot):
            self._snapshot_template = SNAPSHOT_DB
        else:
            self._prepare_cluster()
        if self.run_as is not None and self.datadir.stat().st_uid != self.run_as.uid:
            chown_tree(self.run_dir, self.run_as)  # cache written by another account
        else:
            os.chown(self.run_dir, *(self.run_as or (os.getuid(), os.getgid())))
        self._spawn()

    def stop(self) -> None:
        """Stop the server and delete its directory; safe to call more than once."""
        if self._keeper is not None:
            self._ready.wait()  # a boot half done would leave a server behind
        if self.admin is not None:
            with contextlib.suppress(psycopg.Error):
                self.admin.close()
            self.admin = None
        self._stop_process(discard=True)
        self.pending_drops.clear()
        self._spare = None
        if self._keeper is not None:
            self._release.set()
            self._keeper.join()
            self._keeper = None
        if self.run_dir is not None:
            tempdirs.remove_dir_soon(self.run_dir)
            self.run_dir = None

    @property
    def datadir(self) -> Path:
        assert self.run_dir is not None, "server not started"
        return self.run_dir / tempdirs.DATA

    def conninfo(self, dbname: str) -> str:
        self._wait()
        return self._conninfo(dbname)

    def _conninfo(self, dbname: str) -> str:
        assert self.run_dir is not None, "server not started"
        return psycopg.conninfo.make_conninfo(
            host=str(self.run_dir), port=5432, user=SUPERUSER, dbname=dbname
        )

    # -- databases -----------------------------------------------------------------------

    def create_database(self, *, template: str | None = None) -> Database:
        self._wait()
        if template is not None and template == self._snapshot_template \
                and self._spare is not None:
            spare, self._spare = self._spare, None
            return spare
        return self._create(template)

    def _create(self, template: str | None) -> Database:
        name = f"mg_{os.getpid()}_{secrets.token_hex(4)}"
        sql = f'CREATE DATABASE "{name}"'
        if template is not None:
            sql += f' TEMPLATE "{template}"'
        if self.version >= 150000:
            sql += " STRATEGY FILE_COPY"
        self._admin().execute(sql.encode())
        return Database(name, self._conninfo(name))

    def run_admin_sql(self, sql: str) -> None:
        self._wait()
        self._admin().execute(sql.encode())

    def drop_database(self, database: Database) -> None:
        """Drop ``database``, or, while few are pending, leave it to go with the data
        directory at stop (dropping a large database costs as much as creating it)."""
        self._wait()
        self.pending_drops.append(database)
        while len(self.pending_drops) > MAX_PENDING_DROPS:
            doomed = self.pending_drops.pop(0)
            self._admin().execute(
                f'DROP DATABASE IF EXISTS "{doomed.name}" WITH (FORCE)'.encode())

    def claim(self, template: str) -> Database:
        """The template database itself, for a caller that needs no further clones of it."""
        self._wait()
        if template == self._snapshot_template:
            self._snapshot_template = None
        return Database(template, self.conninfo(template))

    def save_snapshot(self, database: Database) -> str:
        """Make ``database`` the template (renamed; the caller's name no longer exists) and
        publish it to the cache as the snapshot for this server's key.

        The server is stopped for the copy (a running cluster's files are not consistent)
        and restarted on the same socket, so conninfo strings stay valid.
        """
        self._wait()
        admin = self._admin()
        # What a migration did to the server's settings stays out of the cache.
        admin.execute(b"ALTER SYSTEM RESET ALL")
        admin.execute(b"SELECT pg_reload_conf()")
        admin.execute(f'DROP DATABASE IF EXISTS "{SNAPSHOT_DB}" WITH (FORCE)'.encode())
        # A pooled engine left behind by user code (an env.py) would block the rename.
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", [database.name])
        admin.execute(f'ALTER DATABASE "{database.name}" RENAME TO "{SNAPSHOT_DB}"'.encode())
        for pending in self.pending_drops:  # not worth keeping in the cache
            admin.execute(f'DROP DATABASE IF EXISTS "{pending.name}" WITH (FORCE)'.encode())
        self.pending_drops.clear()
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
        return self.cache_dir / f"cluster-{self.build_key}.tar"

    def _snapshot_path(self) -> Path | None:
        if self.snapshot_key is None:
            return None
        digest = hashlib.sha256(f"{self.build_key}\0{self.snapshot_key}".encode()).hexdigest()
        return self.cache_dir / f"snapshot-{digest[:32]}.tar"

    def _prepare_cluster(self) -> None:
        cluster = self._cluster_path()
        if self._unpack(cluster):
            return
        assert self.run_dir is not None
        chown_tree(self.run_dir, self.run_as)
        self._initdb(self.datadir)
        self._publish(self.datadir, cluster)
        legacy = cluster.with_suffix("")  # the directory earlier versions cached
        if legacy.is_dir():
            tempdirs.remove_dir(legacy)

    def _unpack(self, archive: Path) -> bool:
        """Unpack a cache entry as our data directory; ``False`` if there is none (or it
        vanished meanwhile: evicted)."""
        if not archive.is_file():
            return False
        self.datadir.mkdir(mode=0o700)
        try:
            result = subprocess.run(["tar", "-x", "-m", "--numeric-owner", "-f", str(archive),
                                     "-C", str(self.datadir)],
                                    capture_output=True, timeout=120, check=False)
            unpacked = result.returncode == 0
        except (OSError, subprocess.SubprocessError):
            unpacked = False  # no tar on PATH: every run builds its cluster
        if not unpacked:
            tempdirs.remove_dir(self.datadir)
            return False
        return True

    def _publish(self, source: Path, target: Path) -> None:
        """Archive ``source`` as ``target`` atomically; a concurrent publisher may win."""
        if target.exists():
            return
        staging = tempdirs.make_owned_dir(self.cache_dir, CACHE_TMP_PREFIX, self.owner)
        try:
            packed = staging / target.name
            subprocess.run(["tar", "-c", "--numeric-owner", "-f", str(packed), "-C",
                            str(source), "--exclude=./postmaster.pid",
                            "--exclude=./postmaster.opts",
                            # ALTER SYSTEM by a migration stays in the run that made it
                            "--exclude=./postgresql.auto.conf", "."],
                           capture_output=True, timeout=300, check=True)
            packed.rename(target)
            os.utime(target)  # eviction goes by publish time
        except (OSError, subprocess.SubprocessError):
            pass  # another run published first, or the cache is read-only: not fatal
        finally:
            tempdirs.remove_dir(staging)

    def _evict_old_snapshots(self) -> None:
        snapshots = sorted(self.cache_dir.glob("snapshot-*"), key=_mtime, reverse=True)
        for old in snapshots[MAX_SNAPSHOTS:]:
            if old.is_dir():
                tempdirs.remove_dir(old)
            else:
                with contextlib.suppress(OSError):
                    old.unlink()

    def _initdb(self, datadir: Path) -> None:
        args = [str(self.bindir / "initdb"), "-N", "-D", str(datadir), "-U", SUPERUSER,
                "-A", "trust", "-E", "UTF8", "--locale=C"]
        result = subprocess.run(args, capture_output=True, text=True, timeout=300,
                                preexec_fn=ChildSetup(self.run_as), env=child_env(),
                                cwd=str(datadir.parent), check=False)
        if result.returncode != 0:
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            raise GuardError(
                f"initdb failed (exit {result.returncode}): {' | '.join(lines[-3:])}",
                hint=f"run `{' '.join(args)}` by hand to see why",
            )

    # -- the server process --------------------------------------------------------------

    def _spawn(self) -> None:
        assert self.run_dir is not None
        args = [str(self.bindir / "postgres"), "-D", str(self.datadir), "-k", str(self.run_dir),
                "-p", "5432"]
        for setting in (*SERVER_SETTINGS, *(WAL_SETTINGS if self._major() >= 12 else ())):
            args += ["-c", setting]
        with open(self.run_dir / "postgres.log", "ab") as log:
            self.process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=child_env(),
                cwd=str(self.run_dir), preexec_fn=ChildSetup(self.run_as),
                start_new_session=True,  # a terminal's Ctrl-C reaches us, not the server
            )
        self.admin = self._wait_ready()
        self.version = self.admin.info.server_version

    def _major(self) -> int:
        try:
            return int((self.datadir / "PG_VERSION").read_text().split(".")[0])
        except (OSError, ValueError):
            return 0

    def _wait_ready(self) -> psycopg.Connection[tuple[object, ...]]:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout_s
        conninfo = self._conninfo("postgres")
        while True:
            if self.process.poll() is not None:
                raise GuardError(f"the temporary PostgreSQL server exited at start "
                                 f"(code {self.process.returncode}): {self._log_tail()}")
            try:
                admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=2)
                # A session's own settings outrank the config files a migration may have
                # changed with ALTER SYSTEM: our own statements must still run.
                admin.execute(b"SET default_transaction_read_only = off; "
                              b"SET statement_timeout = 0; SET lock_timeout = 0")
                return admin
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise GuardError(
                        f"the temporary PostgreSQL server was not ready after "
                        f"{self.start_timeout_s:g} s: {self._log_tail()}") from None
                time.sleep(0.003)

    def _log_tail(self) -> str:
        """The server log's last lines, as one line."""
        assert self.run_dir is not None
        try:
            text = (self.run_dir / "postgres.log").read_text(errors="replace")[-2000:]
        except OSError:
            return "(no server log)"
        return " | ".join(line.strip() for line in text.splitlines()[-3:] if line.strip())

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


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
