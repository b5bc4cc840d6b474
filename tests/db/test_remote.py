"""Throwaway databases on a server given by URL (the local server, when it is running)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from migration_guard.db.base import Database
from migration_guard.db.provider import open_server
from migration_guard.db.remote import MARKER_PREFIX, UrlServer, is_stale, own_marker, parse_marker
from migration_guard.errors import GuardError

REPO = Path(__file__).resolve().parents[2]


def database_exists(url: str, name: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


@pytest.fixture
def role_without_createdb(local_url: str) -> Iterator[str]:
    role = f"mg_test_{secrets.token_hex(4)}"
    with psycopg.connect(local_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN NOCREATEDB").format(sql.Identifier(role)))
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(role)))
    yield role
    with psycopg.connect(local_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_url_server_creates_a_marked_database_and_drops_it(local_url: str) -> None:
    with open_server(database_url=local_url) as server:
        assert server.kind == "url"
        database = server.create_database()
        assert database.name.startswith("mg_")
        with psycopg.connect(local_url) as conn:
            comment = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = %s", [database.name]).fetchone()
        assert comment is not None and comment[0].startswith("migration-guard:")
        with psycopg.connect(database.conninfo) as conn:  # a session left open
            conn.execute("CREATE TABLE t ()")
            conn.commit()
            server.drop_database(database)
    assert not database_exists(local_url, database.name)


def test_url_server_never_drops_an_unmarked_database(local_url: str) -> None:
    name = f"mg_not_ours_{secrets.token_hex(4)}"
    with psycopg.connect(local_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with open_server(database_url=local_url) as server:
            server.drop_database(Database(name, ""))
        assert database_exists(local_url, name)
    finally:
        with psycopg.connect(local_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))


def test_role_without_createdb_is_told_exactly_that(local_url: str,
                                                    role_without_createdb: str) -> None:
    url = f"postgresql://{role_without_createdb}@127.0.0.1:5432/postgres"
    with pytest.raises(GuardError) as caught, open_server(database_url=url) as server:
        server.create_database()
    assert caught.value.message == (
        f"the role '{role_without_createdb}' may not create databases on {url}: "
        "migration-guard needs the CREATEDB privilege to make a throwaway database")
    assert caught.value.hint == f'grant it: ALTER ROLE "{role_without_createdb}" CREATEDB;'


@pytest.mark.parametrize("url", [
    "postgresql://user:sec@ret@host:bad/db",
    "postgresql://user:s3cr3tpw@127.0.0.1:1/db",
    "host=127.0.0.1 port=1 password=s3cr3tpw user=x",
    "postgresql://user:s3cr3tpw@[::1/db",
])
def test_connection_errors_never_print_the_password(url: str) -> None:
    with pytest.raises(GuardError) as caught, open_server(database_url=url):
        pass
    text = f"{caught.value.message} {caught.value.hint}"
    assert "sec" not in text and "ret@" not in text and "s3cr3tpw" not in text
    assert text.startswith("cannot connect to the database server ")


def test_url_server_cleans_up_all_its_databases_on_exit(local_url: str) -> None:
    with open_server(database_url=local_url) as server:
        assert isinstance(server, UrlServer)
        names = [server.create_database().name for _ in range(2)]
        server.save_snapshot(server.create_database())
    assert not any(database_exists(local_url, name) for name in names)
    with psycopg.connect(local_url) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE shobj_description(oid, "
                            "'pg_database') LIKE %s", [f"migration-guard:{server.token}"])
        assert left.fetchone() == (0,)


HOLD_URL_DATABASE = """
import sys, time
from migration_guard.db.provider import open_server
with open_server(database_url=sys.argv[1]) as server:
    print(server.create_database().name, flush=True)
    time.sleep(60)
"""


def comment_of(url: str, name: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                           "WHERE datname = %s", [name]).fetchone()
    return None if row is None else row[0]


def test_databases_of_a_sigkilled_run_are_dropped_by_the_next_run(local_url: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", HOLD_URL_DATABASE, local_url],
                             stdout=subprocess.PIPE, text=True, cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert child.stdout is not None
    name = child.stdout.readline().strip()
    child.kill()
    child.wait(10)
    assert database_exists(local_url, name)
    with open_server(database_url=local_url):
        assert not database_exists(local_url, name)


def test_reaper_leaves_databases_of_live_runs_and_other_machines(local_url: str) -> None:
    names = [f"mg_test_{secrets.token_hex(4)}" for _ in range(3)]
    mine = own_marker()
    markers = [
        mine,  # this very process: alive
        mine._replace(host="elsewhere", pid=2**22 + 1),  # a dead pid, but another machine
        mine._replace(pidns="4026531999", pid=2**22 + 1),  # another container's pid table
    ]
    with psycopg.connect(local_url, autocommit=True) as conn:
        for name, marker in zip(names, markers, strict=True):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(MARKER_PREFIX + marker.render())))
    try:
        with open_server(database_url=local_url):
            assert all(database_exists(local_url, name) for name in names)
    finally:
        with psycopg.connect(local_url, autocommit=True) as conn:
            for name in names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def test_a_dead_owner_on_this_machine_is_stale_and_a_reused_pid_too() -> None:
    mine = own_marker()
    assert not is_stale(mine, mine)
    assert is_stale(mine._replace(start="1"), mine)  # same pid, another start: reused
    assert is_stale(mine._replace(pid=2**22 + 1), mine)
    assert parse_marker(MARKER_PREFIX + mine.render()) == mine
    assert parse_marker(f"{MARKER_PREFIX}1234:abcdef") is None  # an older marker: left alone


@pytest.fixture
def other_database(local_url: str) -> Iterator[str]:
    name = f"mg_test_other_{secrets.token_hex(4)}"
    with psycopg.connect(local_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(local_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def test_contained_role_cannot_drop_another_database_or_alter_the_system(
        local_url: str, other_database: str) -> None:
    from migration_guard.db.execute import Session, apply_sql

    with open_server(database_url=local_url) as server:
        database = server.create_database()
        role = psycopg.conninfo.conninfo_to_dict(database.conninfo)["user"]
        assert str(role).startswith("mg_run_")
        with Session(database.conninfo) as session:
            dropped = apply_sql(session, f'DROP DATABASE "{other_database}";', path="m.sql")
            altered = apply_sql(session, "ALTER SYSTEM SET work_mem = '1GB';", path="m.sql")
            program = apply_sql(session, "COPY (SELECT 1) TO PROGRAM 'true';", path="m.sql")
            created = apply_sql(session, "CREATE TABLE t (id int); CREATE EXTENSION pgcrypto;",
                                path="m.sql")
        assert [f.kind for f in dropped + altered + program] == ["failed"] * 3
        assert "must be owner of database" in dropped[0].message
        assert created == []
        assert server.mode == ("contained: the migrations run as a role owning only the "
                               "throwaway database")
    assert database_exists(local_url, other_database)
    with psycopg.connect(local_url) as conn:
        leftover = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s",
                                [role]).fetchone()
    assert leftover == (0,)


def test_full_privileges_are_refused_on_a_server_holding_other_databases(
        local_url: str, other_database: str) -> None:
    from migration_guard.db.base import Wants

    with pytest.raises(GuardError) as raised, \
            open_server(database_url=local_url, wants=Wants(url_role="full")):
        pass
    assert "postgres.url_role is full, but" in raised.value.message
    assert other_database in raised.value.message
