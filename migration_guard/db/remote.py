"""Throwaway databases on a server given by URL (a CI service container, say).

We connect to the URL's database only to create ``mg_<pid>_<random>`` databases, mark each
with ``COMMENT ON DATABASE ... IS 'migration-guard:<token>'`` and, at the end, drop only
databases whose comment still carries our token (after terminating their backends).
"""

from __future__ import annotations

import contextlib
import os
import secrets

import psycopg
from psycopg import sql

from migration_guard.db.base import Database
from migration_guard.db.redact import redact_with
from migration_guard.errors import GuardError

MARKER_PREFIX = "migration-guard:"


class UrlServer:
    """A server reached through a caller-supplied URL or conninfo string."""

    kind = "url"

    def __init__(self, url: str, *, connect_timeout_s: float = 10.0) -> None:
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self.token = f"{os.getpid()}:{secrets.token_hex(8)}"
        self.version = 0
        self.snapshot_template: str | None = None
        self.created: list[Database] = []
        self.admin: psycopg.Connection[tuple[object, ...]] | None = None
        self.user = ""

    def start(self) -> None:
        self.admin = connect(self.url, connect_timeout_s=self.connect_timeout_s)
        self.version = self.admin.info.server_version
        self.user = self.admin.info.user

    def stop(self) -> None:
        if self.admin is None:
            return
        for database in reversed(self.created):
            with contextlib.suppress(psycopg.Error):
                self.drop_database(database)
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
        database = Database(name, make_conninfo(self.url, name))
        self.created.append(database)
        admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(name), sql.Literal(MARKER_PREFIX + self.token)))
        return database

    def drop_database(self, database: Database) -> None:
        """Drop ``database`` if, and only if, it carries our marker."""
        admin = self._admin()
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [database.name]).fetchone()
        if row is None or row[0] != MARKER_PREFIX + self.token:
            return
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", [database.name])
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database.name)))
        if database in self.created:
            self.created.remove(database)

    def save_snapshot(self, database: Database) -> str:
        """Keep a copy of ``database`` as a template for this run (not persisted across runs)."""
        self._admin().execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", [database.name])
        template = self.create_database(template=database.name)
        self.snapshot_template = template.name
        return template.name

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
