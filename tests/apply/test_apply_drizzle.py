"""Drizzle on a real PostgreSQL: apply in drizzle's one transaction, and ``status`` read as
drizzle-orm's migrator reads its table (migrations applied by the real migrator)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg.conninfo
import pytest
from conftest import Repo
from drizzle_project import USERS, drizzle_kit, migrate, setup_project

from migration_guard.db.base import Database, Server
from migration_guard.db.provider import open_server

JOURNAL = "drizzle/meta/_journal.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with open_server(cache_dir=tmp_path_factory.mktemp("mg-cache")) as started:
        yield started


@pytest.fixture
def database(server: Server) -> Iterator[Database]:
    created = server.create_database()
    yield created
    server.drop_database(created)


def url_of(database: Database) -> str:
    params = psycopg.conninfo.conninfo_to_dict(database.conninfo)
    return (f"postgresql://{quote(str(params['user']))}@/{quote(str(params['dbname']))}"
            f"?host={quote(str(params['host']), safe='')}&port={params.get('port', 5432)}")


def export_at(repo: Repo, ref: str, target: Path) -> Path:
    """The migrations folder as commit ``ref`` has it (what a deploy of it would run)."""
    archive = subprocess.run(["git", "archive", ref, "drizzle"], cwd=repo.path, env=repo.env,
                             capture_output=True, check=True).stdout
    target.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "drizzle"


def two_migrations(repo: Repo) -> None:
    setup_project(repo)
    repo.write("src/schema.ts", USERS.replace('text("name")', 'text("name").default("x")'))
    drizzle_kit(repo, "generate", "--name", "name_default")
    repo.commit("second migration")


def test_status_with_one_of_two_migrations_applied(repo: Repo, database: Database,
                                                   tmp_path: Path) -> None:
    two_migrations(repo)
    migrate(repo, export_at(repo, "main", tmp_path / "deployed"), database.conninfo)
    url = url_of(database)
    result = repo.mg("status", "--database-url", url)
    assert (result.code, result.err) == (0, ""), result.out
    assert result.lines == [
        f"migration-guard: status of {url}",
        "drizzle (drizzle): 1 applied, 1 pending",
        "  pending: drizzle/0001_name_default.sql",
    ]


def test_status_after_the_real_migrator_applied_everything(repo: Repo, database: Database,
                                                           tmp_path: Path) -> None:
    two_migrations(repo)
    migrate(repo, export_at(repo, "HEAD", tmp_path / "deployed"), database.conninfo)
    result = repo.mg("status", "--database-url", url_of(database))
    assert result.lines[1:] == ["drizzle (drizzle): 2 applied, 0 pending"]


def test_edited_applied_migration_shows_as_applied_but_unknown(repo: Repo, database: Database,
                                                               tmp_path: Path) -> None:
    two_migrations(repo)
    migrate(repo, export_at(repo, "main", tmp_path / "deployed"), database.conninfo)
    import hashlib

    deployed = hashlib.sha256((repo.path / "drizzle/0000_init.sql").read_bytes()).hexdigest()
    repo.append("drizzle/0000_init.sql", "\n-- edited after deploy\n")
    repo.commit("edit a deployed migration")
    result = repo.mg("status", "--database-url", url_of(database))
    assert result.lines[1:] == [
        "drizzle (drizzle): 1 applied, 1 pending",
        "  pending: drizzle/0001_name_default.sql",
        "  applied, but the file changed since: drizzle/0000_init.sql (its hash is not in the "
        "migrations table)",
        f"  applied but unknown: hash {deployed[:12]} (created_at "
        f"{json.loads((repo.path / JOURNAL).read_text())['entries'][0]['when']}): no "
        "migration file of the tree has these bytes",
    ]


def test_status_on_a_database_drizzle_never_migrated(repo: Repo, database: Database) -> None:
    two_migrations(repo)
    result = repo.mg("status", "--database-url", url_of(database))
    assert result.lines[1:] == [
        "drizzle (drizzle): 0 applied, 2 pending",
        "  pending: drizzle/0000_init.sql",
        "  pending: drizzle/0001_name_default.sql",
    ]


# -- apply: drizzle's one transaction ------------------------------------------------------


def _custom_migration(repo: Repo, sql: str) -> str:
    drizzle_kit(repo, "generate", "--custom", "--name", "custom")
    path = "drizzle/0001_custom.sql"
    repo.write(path, sql)
    repo.add()
    return path


def test_create_index_concurrently_fails_apply_at_its_file_and_line(repo: Repo,
                                                                    shared_cache: Path) -> None:
    repo.env["XDG_CACHE_HOME"] = str(shared_cache)
    setup_project(repo)
    path = _custom_migration(repo, 'ALTER TABLE "users" ADD COLUMN "age" integer;\n'
                             "--> statement-breakpoint\n"
                             'CREATE INDEX CONCURRENTLY "users_age_idx" ON "users" ("age");\n')
    result = repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:3] == [
        f"{path}:3: MG201 migration failed to apply: CREATE INDEX CONCURRENTLY cannot run "
        "inside a transaction block [SQLSTATE 25001]",
        "  hint: fix the statement so that it applies on top of the migrations before it",
    ]


def test_runner_per_file_applies_concurrently_in_autocommit(repo: Repo,
                                                            shared_cache: Path) -> None:
    repo.env["XDG_CACHE_HOME"] = str(shared_cache)
    setup_project(repo)
    repo.write(".migration-guard.yaml", "checks: [apply]\nprojects:\n  - migrations: drizzle\n"
               "    framework: drizzle\n    runner: per-file\n")
    _custom_migration(repo, 'CREATE INDEX CONCURRENTLY "users_name_idx" ON "users" ("name");\n')
    result = repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out


def test_failing_drizzle_migration_reports_its_file_and_line(repo: Repo,
                                                          shared_cache: Path) -> None:
    repo.env["XDG_CACHE_HOME"] = str(shared_cache)
    setup_project(repo)
    path = _custom_migration(repo, 'ALTER TABLE "users" ADD COLUMN "name" text;\n')
    result = repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert result.lines[1] == (
        f'{path}:1: MG201 migration failed to apply: column "name" of relation "users" '
        "already exists [SQLSTATE 42701]")


# -- drift ---------------------------------------------------------------------------------


def test_drift_against_finds_a_hand_added_column_not_a_pending_migration(
        repo: Repo, database: Database, tmp_path: Path, shared_cache: Path) -> None:
    repo.env["XDG_CACHE_HOME"] = str(shared_cache)
    two_migrations(repo)
    migrate(repo, export_at(repo, "main", tmp_path / "deployed"), database.conninfo)
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute('ALTER TABLE "users" ADD COLUMN "nickname" text')
    result = repo.mg("drift", "--against", url_of(database))
    assert result.code == 1, result.out + result.err
    assert result.lines[1:] == [
        "drizzle: MG206 drift: column public.users.nickname (text null) is in the live "
        "database but not in the migrated schema (from the migrations)",
        "  hint: add a migration for what the live database has, or fix the live database",
        "1 finding (drift over 1 project)",
    ]


def test_apply_drift_finds_a_column_the_typescript_declares_that_no_migration_creates(
        repo: Repo, shared_cache: Path) -> None:
    repo.env["XDG_CACHE_HOME"] = str(shared_cache)
    setup_project(repo)
    repo.write(".migration-guard.yaml", "checks: [apply]\nprojects:\n  - migrations: drizzle\n"
               "    framework: drizzle\n    drift: true\n")
    repo.write("src/schema.ts", USERS.replace(
        '  name: text("name").notNull(),\n',
        '  name: text("name").notNull(),\n  email: text("email"),\n'))
    repo.add()
    result = repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:3] == [
        "src/schema.ts: MG206 drift: column public.users.email (text null) is in the "
        "declarative schema but not in the migrated database",
        "  hint: add a migration that brings the schema in line with the declarative files",
    ]


def test_apply_drift_passes_when_the_migrations_match_the_typescript(
        repo: Repo, shared_cache: Path) -> None:
    repo.env["XDG_CACHE_HOME"] = str(shared_cache)
    setup_project(repo)
    repo.write(".migration-guard.yaml", "checks: [apply]\nprojects:\n  - migrations: drizzle\n"
               "    framework: drizzle\n    drift: true\n")
    repo.add()
    result = repo.mg("apply", "--all")
    assert (result.code, result.err) == (0, ""), result.out


def test_apply_drift_without_drizzle_kit_cannot_check(repo: Repo, shared_cache: Path) -> None:
    repo.env["XDG_CACHE_HOME"] = str(shared_cache)
    setup_project(repo)
    (repo.path / "node_modules").unlink()
    repo.write(".migration-guard.yaml", "checks: [apply]\nprojects:\n  - migrations: drizzle\n"
               "    framework: drizzle\n    drift: true\n")
    repo.add()
    result = repo.mg("apply", "--all")
    assert result.code == 2, result.out + result.err
    assert result.err.splitlines() == [
        "migration-guard: error: drift of drizzle: cannot read the schema the TypeScript "
        "declares: drizzle-kit is not installed (no node_modules/.bin/drizzle-kit from ./ up)",
        "  hint: install the project's packages (npm ci) so drizzle-kit export can print it, "
        "or set drift: false for this project",
    ]
