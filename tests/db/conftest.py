"""Fixtures for the database tests: one real embedded PostgreSQL per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from migration_guard.db.base import Database, Server
from migration_guard.db.execute import Session
from migration_guard.db.provider import open_server

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mg-cache")


@pytest.fixture(scope="session")
def server(cache_dir: Path) -> Iterator[Server]:
    with open_server(cache_dir=cache_dir) as started:
        yield started


@pytest.fixture
def database(server: Server) -> Iterator[Database]:
    created = server.create_database()
    yield created
    server.drop_database(created)


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with Session(database.conninfo) as opened:
        yield opened


@pytest.fixture(scope="session")
def local_url() -> str:
    """The local server's URL; the test is skipped when nothing listens there."""
    try:
        psycopg.connect(LOCAL_URL, connect_timeout=2).close()
    except psycopg.Error:
        pytest.skip(f"no PostgreSQL at {LOCAL_URL}")
    return LOCAL_URL
