"""Throwaway databases on a server given by URL (a CI service container, say).

We connect to the URL's database only to create ``mg_<pid>_<random>`` databases, mark each
with ``COMMENT ON DATABASE ... IS 'migration-guard:<token>'`` and, at the end, drop only
databases whose comment still carries our token (after terminating their backends).

The token names the owner: host name, boot id and pid namespace (together: one process
table), pid and the pid's start time, and a random part. A run killed with SIGKILL cannot
drop its databases; the next run on the same machine drops every database whose marker
names this process table and an owner that is no longer alive. Markers from other
machines, containers or older versions are never touched: their owner cannot be checked.

Containment (``postgres.url_role``): by default the migrations run as a role made for the
run (``mg_run_<random>``, LOGIN with a random password, no SUPERUSER, CREATEDB, CREATEROLE,
REPLICATION or BYPASSRLS, member of nothing) that owns only the throwaway databases; so
``DROP DATABASE`` of another database, ``ALTER SYSTEM`` and ``COPY ... TO PROGRAM`` fail
inside the run. Extensions the server does not mark trusted are created by the URL's role
before handing over (a migration's ``CREATE EXTENSION IF NOT EXISTS`` then passes; a plain
``CREATE EXTENSION`` of one fails as "already exists"). ``full`` runs them as the URL's
role, only on a server that holds no database but ``postgres``, the templates and ours
(a CI service container); ``as-given`` does so on any server, by explicit opt-in.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from pathlib import Path

import psycopg
from psycopg import sql

from migration_guard.db import tempdirs
from migration_guard.db.base import Database
from migration_guard.db.redact import redact_with
from migration_guard.errors import GuardError
from migration_guard.typing_lite import NamedTuple

MARKER_PREFIX = "migration-guard:"
RUN_ROLE_PREFIX = "mg_run_"
SERVER_DATABASES = ("postgres", "template0", "template1")


class Marker(NamedTuple):
    """The owner a database's marker names."""

    host: str
    boot: str
    pidns: str
    pid: int
    start: str
    run: str

    def render(self) -> str:
        return (f"host={self.host} boot={self.boot} pidns={self.pidns} pid={self.pid} "
                f"start={self.start} run={self.run}")


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        return ""


def own_marker() -> Marker:
    owner = tempdirs.current_owner(secrets.token_hex(8))
    return Marker(socket.gethostname() or "?", _read("/proc/sys/kernel/random/boot_id") or "?",
                  _pid_namespace() or "?", owner.pid, owner.start or "?", owner.token)


def parse_marker(comment: str | None) -> Marker | None:
    """The owner named by a database comment; None for anything else (older markers too)."""
    if not comment or not comment.startswith(MARKER_PREFIX):
        return None
    fields = dict(part.partition("=")[::2] for part in comment[len(MARKER_PREFIX):].split(" "))
    try:
        return Marker(fields["host"], fields["boot"], fields["pidns"], int(fields["pid"]),
                      fields["start"], fields["run"])
    except (KeyError, ValueError):
        return None


def is_stale(marker: Marker, mine: Marker) -> bool:
    """The marker names a process of this very process table that is no longer alive."""
    if "?" in (mine.boot, mine.pidns, marker.start):
        return False  # without a boot id or pid namespace, liveness cannot be known
    if (marker.host, marker.boot, marker.pidns) != (mine.host, mine.boot, mine.pidns):
        return False
    return tempdirs.process_start_time(marker.pid) != marker.start


class UrlServer:
    """A server reached through a caller-supplied URL or conninfo string."""

    kind = "url"
    build_key: str | None = None

    def __init__(self, url: str, *, connect_timeout_s: float = 10.0,
                 url_role: str = "contained", extensions: frozenset[str] = frozenset()) -> None:
        self.url = url
        self.url_role = url_role
        self.wanted_extensions = extensions
        self.extensions: frozenset[str] = frozenset()  # what the server offers
        self.notes: list[str] = []
        self.run_role: tuple[str, str] | None = None  # name, password
        self.connect_timeout_s = connect_timeout_s
        self.marker = own_marker()
        self.token = self.marker.render()
        self.version = 0
        self.snapshot_template: str | None = None
        self.created: list[Database] = []
        self.admin: psycopg.Connection[tuple[object, ...]] | None = None
        self.user = ""

    def start(self) -> None:
        self.admin = connect(self.url, connect_timeout_s=self.connect_timeout_s)
        self.version = self.admin.info.server_version
        self.user = self.admin.info.user
        self.reap_stale_databases()
        self.extensions = frozenset(str(row[0]) for row in self.admin.execute(
            "SELECT name FROM pg_available_extensions").fetchall())
        if self.url_role == "contained":
            self._require_createrole()
        elif self.url_role == "full":
            self._require_empty_server()

    @property
    def description(self) -> str:
        from migration_guard.db.base import version_text

        return redact_with(f"PostgreSQL {version_text(self.version)} (server URL: {self.url})",
                           self.url)

    @property
    def mode(self) -> str:
        if self.url_role == "contained":
            return "contained: the migrations run as a role owning only the throwaway database"
        if self.url_role == "full":
            return (f"full privileges as {self.user!r} (the server holds no other database)")
        return f"not contained: the migrations run as {self.user!r} (postgres.url_role: as-given)"

    def _require_createrole(self) -> None:
        row = self._admin().execute(
            "SELECT rolsuper OR rolcreaterole, rolsuper OR rolcreatedb FROM pg_roles "
            "WHERE rolname = current_user").fetchone()
        if row is not None and not row[1]:
            return  # creating the database fails first, and says so
        if row is None or not row[0]:
            raise GuardError(
                redact_with(f"the role {self.user!r} of {self.url} cannot create the role the "
                            "migrations run as (it lacks CREATEROLE): run as "
                            f"{self.user!r} they could reach every database on that server",
                            self.url),
                hint=f'grant it: ALTER ROLE "{self.user}" CREATEROLE; or, for a server that '
                     "holds nothing else, set postgres.url_role: as-given in the config")

    def _require_empty_server(self) -> None:
        rows = self._admin().execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "ORDER BY datname").fetchall()
        others = [str(name) for name, comment in rows if name not in SERVER_DATABASES
                  and parse_marker(comment if isinstance(comment, str) else None) is None]
        if others:
            raise GuardError(
                redact_with(f"postgres.url_role is full, but {self.url} holds other databases "
                            f"({', '.join(others[:5])}{', ...' if len(others) > 5 else ''}): "
                            "full privileges are only given on a server that holds nothing "
                            "else", self.url),
                hint="use a fresh server (a CI service container), or set postgres.url_role: "
                     "contained")

    def reap_stale_databases(self) -> list[str]:
        """Drop the databases left by runs of this machine that died (SIGKILL, power
        loss) before they could; return their names."""
        admin = self._admin()
        rows = admin.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE shobj_description(oid, 'pg_database') LIKE %s",
            [MARKER_PREFIX + "%"]).fetchall()
        reaped: list[str] = []
        for name, comment in rows:
            marker = parse_marker(comment if isinstance(comment, str) else None)
            if marker is None or not is_stale(marker, self.marker):
                continue
            with contextlib.suppress(psycopg.Error):  # not ours to drop after all, or gone
                self._drop_marked(str(name), str(comment))
                reaped.append(str(name))
        return reaped

    def stop(self) -> None:
        if self.admin is None:
            return
        for database in reversed(self.created):
            with contextlib.suppress(psycopg.Error):
                self.drop_database(database)
        if self.run_role is not None:
            with contextlib.suppress(psycopg.Error):
                self.admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(
                    sql.Identifier(self.run_role[0])))
            self.run_role = None
        with contextlib.suppress(psycopg.Error):
            self.admin.close()
        self.admin = None

    def create_database(self, *, template: str | None = None) -> Database:
        admin = self._admin()
        name = f"mg_{os.getpid()}_{secrets.token_hex(4)}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        try:
            admin.execute(query)
        except psycopg.errors.InsufficientPrivilege:
            raise self._no_createdb() from None
        except psycopg.Error as exc:
            raise GuardError(redact_with(f"cannot create a throwaway database on "
                                         f"{self.url}: {exc}", self.url)) from None
        self.created.append(Database(name, make_conninfo(self.url, name)))
        admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(name), sql.Literal(MARKER_PREFIX + self.token)))
        database = Database(name, self._hand_over(name))
        self.created[-1] = database
        return database

    def admin_conninfo(self, database: Database) -> str:
        """The URL's own role on ``database`` (for setting it up before handing over)."""
        return make_conninfo(self.url, database.name)

    def _hand_over(self, name: str) -> str:
        """The conninfo the migrations get: the run's contained role, owner of ``name``
        (with the non-trusted extensions they create already there), or the URL's own."""
        if self.url_role != "contained":
            return make_conninfo(self.url, name)
        role, password = self._run_role()
        self._admin().execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(name), sql.Identifier(role)))
        self._precreate_untrusted(name)
        try:
            return psycopg.conninfo.make_conninfo(self.url, dbname=name, user=role,
                                                  password=password)
        except psycopg.Error as exc:
            raise GuardError(redact_with(f"invalid database URL {self.url}: {exc}",
                                         self.url)) from None

    def _run_role(self) -> tuple[str, str]:
        if self.run_role is None:
            admin = self._admin()
            role = RUN_ROLE_PREFIX + secrets.token_hex(6)
            password = secrets.token_urlsafe(24)
            admin.execute(sql.SQL(
                "CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOREPLICATION NOBYPASSRLS").format(sql.Identifier(role), sql.Literal(password)))
            self.run_role = (role, password)
            # A non-superuser may give a database to a role only when it may SET ROLE to it.
            with contextlib.suppress(psycopg.Error):
                admin.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(role)))
        return self.run_role

    def _precreate_untrusted(self, name: str) -> None:
        if not self.wanted_extensions:
            return
        with connect(make_conninfo(self.url, name),
                     connect_timeout_s=self.connect_timeout_s) as conn:
            trusted = {str(row[0]) for row in conn.execute(
                "SELECT DISTINCT name FROM pg_available_extension_versions WHERE trusted"
            ).fetchall()} if self.version >= 130000 else set()
            for extension in sorted(self.wanted_extensions - trusted):
                conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} CASCADE").format(
                    sql.Identifier(extension)))

    def run_admin_sql(self, sql_text: str) -> None:
        try:
            self._admin().execute(sql_text.encode())
        except psycopg.Error as exc:
            raise GuardError(
                redact_with(f"cannot set up the server at {self.url} as {self.user!r}: {exc}",
                            self.url),
                hint="the preset creates roles: the URL's role needs CREATEROLE") from None

    def drop_database(self, database: Database) -> None:
        """Drop ``database`` if, and only if, it carries our marker."""
        self._drop_marked(database.name, MARKER_PREFIX + self.token)
        if database in self.created:
            self.created.remove(database)

    def _drop_marked(self, name: str, marker: str) -> None:
        """Drop ``name`` if its comment is ``marker``, after ending its sessions."""
        admin = self._admin()
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name]).fetchone()
        if row is None or row[0] != marker:
            return
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", [name])
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    def claim(self, template: str) -> Database:
        """The template database itself, for a caller that needs no further clones of it."""
        if template == self.snapshot_template:
            self.snapshot_template = None
        mine = [d for d in self.created if d.name == template]
        return mine[0] if mine else Database(template, make_conninfo(self.url, template))

    def save_snapshot(self, database: Database) -> str:
        """Make ``database`` the template for this run (not persisted across runs); it is
        dropped at stop like every database of ours."""
        self._admin().execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", [database.name])
        self.snapshot_template = database.name
        return database.name

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        assert self.admin is not None, "server not started"
        return self.admin

    def _no_createdb(self) -> GuardError:
        return GuardError(
            redact_with(f"the role {self.user!r} may not create databases on {self.url}: "
                        "migration-guard needs the CREATEDB privilege to make a throwaway "
                        "database", self.url),
            hint=f'grant it: ALTER ROLE "{self.user}" CREATEDB;',
        )


def connect(conninfo: str, *, connect_timeout_s: float = 10.0,
            autocommit: bool = True) -> psycopg.Connection[tuple[object, ...]]:
    """Connect with a bounded wait; errors come back as GuardError, credentials masked."""
    try:
        return psycopg.connect(conninfo, autocommit=autocommit,
                               connect_timeout=max(1, round(connect_timeout_s)))
    except psycopg.Error as exc:
        raise GuardError(
            redact_with(f"cannot connect to the database server {conninfo}: {exc}", conninfo),
            hint="check the URL passed with --database-url or MIGRATION_GUARD_DATABASE_URL",
        ) from None


def make_conninfo(url: str, dbname: str) -> str:
    try:
        return psycopg.conninfo.make_conninfo(url, dbname=dbname)
    except psycopg.Error as exc:
        raise GuardError(redact_with(f"invalid database URL {url}: {exc}", url)) from None
