"""``status`` and ``drift --against`` on the local server; the new config keys."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from conftest import Repo
from layouts import BY_NAME, setup

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def live_url() -> Iterator[str]:
    """A scratch database on the local server, golang-migrate's first migration applied."""
    try:
        admin = psycopg.connect(LOCAL_URL, autocommit=True, connect_timeout=2)
    except psycopg.Error:
        pytest.skip(f"no PostgreSQL at {LOCAL_URL}")
    name = f"mgtest_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"'.encode())
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table a (id int); create table schema_migrations "
                     "(version bigint primary key, dirty boolean not null);"
                     "insert into schema_migrations values (1, false)")
    yield url
    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)'.encode())
    admin.close()


def test_status_lists_applied_and_pending(apply_repo: Repo, live_url: str) -> None:
    setup(apply_repo, BY_NAME["golang-migrate"])
    result = apply_repo.mg("status", "--database-url", live_url)
    assert (result.code, result.err) == (0, "")
    assert result.lines == [
        f"migration-guard: status of {live_url}",
        "migrations (golang-migrate): 1 applied, 1 pending",
        "  pending: migrations/000005_users.up.sql",
    ]


def test_drift_against_a_live_database(apply_repo: Repo, live_url: str) -> None:
    setup(apply_repo, BY_NAME["golang-migrate"])
    result = apply_repo.mg("drift", "--against", live_url)
    assert result.code == 1, result.out + result.err
    assert result.lines[1:3] == [
        "migrations: MG206 drift: table public.u (table) is in the migrated schema (from the "
        "migrations) but not in the live database",
        "  hint: add a migration for what the live database has, or fix the live database",
    ]


def test_status_never_prints_a_password(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    result = apply_repo.mg("status", "--database-url", "postgresql://u:s3cr3tpw@bad:port/x")
    assert result.code == 2
    assert "s3cr3tpw" not in result.out + result.err


@pytest.mark.parametrize(("config", "message", "hint"), [
    ("database:\n  statment_timeout: 5\n",
     ".migration-guard.yaml:2: database.statment_timeout: unknown key",
     "allowed keys here: statement_timeout, lock_timeout, connect_timeout, start_timeout, "
     "run_timeout, sample_rows, cache"),
    ("database:\n  lock_timeout: 0\n",
     ".migration-guard.yaml:2: database.lock_timeout: '0' must be greater than 0",
     "correct database.lock_timeout"),
    ("database: 5\n", ".migration-guard.yaml:1: database: expected a mapping, got a number",
     "write key: value pairs"),
    ("projects:\n  - framework: sql\n    roundtrip: always\n",
     ".migration-guard.yaml:3: projects[0].roundtrip: 'always' is not allowed",
     "use one of: off, new, all, downgrades"),
    ("projects:\n  - framework: sql\n    prelude: [/etc/passwd]\n",
     ".migration-guard.yaml:3: projects[0].prelude: '/etc/passwd' must be a path relative to "
     "the repository root, without '..'", "correct projects[0].prelude"),
    ("projects:\n  - framework: sql\n    database_url_env: 1X\n",
     ".migration-guard.yaml:3: projects[0].database_url_env: '1X' must be an environment "
     "variable name (letters, digits, _)", "correct projects[0].database_url_env"),
])
def test_invalid_apply_config(apply_repo: Repo, config: str, message: str, hint: str) -> None:
    apply_repo.write(".migration-guard.yaml", config)
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 2
    assert result.err.splitlines() == [f"migration-guard: error: {message}", f"  hint: {hint}"]


def test_valid_apply_config_is_accepted(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.write(".migration-guard.yaml", (
        "database:\n  statement_timeout: 60\n  lock_timeout: 5\n  connect_timeout: 5\n"
        "  start_timeout: 20\n  run_timeout: 120\n  sample_rows: 5\n  cache: false\n"
        "projects:\n  - migrations: db/migrations\n    framework: sql\n    roundtrip: off\n"
        "    drift: false\n    database_url_env: APP_DB\n    declarative_schema: []\n"
        "    prelude: []\n    seed: []\n"))
    apply_repo.write("db/migrations/006_b.sql", "alter table a add column b int not null;\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1
    assert " with 5 sample rows per table: " in result.lines[1]


def test_check_runs_apply_when_configured(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.write(".migration-guard.yaml", "checks: [immutable, apply]\n")
    apply_repo.write("db/migrations/006_bad.sql", "create table a (id int);\n")
    apply_repo.add()
    result = apply_repo.mg("check")
    assert result.code == 1
    assert result.lines[1].startswith("db/migrations/006_bad.sql:1: MG201 ")
