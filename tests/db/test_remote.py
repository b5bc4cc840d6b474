"""Throwaway databases on a server given by URL (the local server, when it is running)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from migration_guard.db.base import Database
from migration_guard.db.provider import open_server
from migration_guard.db.remote import UrlServer
from migration_guard.errors import GuardError


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
