"""The apply check on a real, throwaway PostgreSQL: every framework, through the CLI."""

from __future__ import annotations

import pytest
from conftest import Repo
from layouts import BY_NAME, setup

SQL_FRAMEWORKS = ["supabase", "drizzle", "flyway", "prisma", "dbmate", "golang-migrate", "sql"]
HEADER = "migration-guard: base: main at "


def new_migration(repo: Repo, framework: str, sql: str) -> tuple[str, int]:
    """Stage a new migration holding ``sql``; its path and the line ``sql`` starts on."""
    path = BY_NAME[framework].new(repo)
    if framework == "dbmate":
        repo.write(path, f"-- migrate:up\n{sql}\n-- migrate:down\n")
        line = 2
    else:
        repo.write(path, sql + "\n")
        line = 1
    repo.add()
    return path, line


@pytest.mark.parametrize("framework", SQL_FRAMEWORKS)
def test_new_sql_migration_applies(apply_repo: Repo, framework: str) -> None:
    setup(apply_repo, BY_NAME[framework])
    new_migration(apply_repo, framework, "create table t2 (id bigint primary key);")
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out


@pytest.mark.parametrize("framework", SQL_FRAMEWORKS)
def test_failing_sql_migration_reports_file_line_and_sqlstate(apply_repo: Repo,
                                                              framework: str) -> None:
    setup(apply_repo, BY_NAME[framework])
    path, line = new_migration(apply_repo, framework, "create table a (id int);")
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:3] == [
        f'{path}:{line}: MG201 migration failed to apply: relation "a" already exists '
        "[SQLSTATE 42P07]",
        "  hint: fix the statement so that it applies on top of the migrations before it",
    ]


def test_syntax_error_reports_its_file_and_line(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.write("db/migrations/006_more.sql", "create table b (id int);\n\ncreat table c;\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1
    assert result.lines[1] == ('db/migrations/006_more.sql:3: MG201 migration failed to apply: '
                               'syntax error at or near "creat" [SQLSTATE 42601]')


def test_concurrently_runs_outside_a_transaction(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.write("db/migrations/006_idx.sql",
                     "create index concurrently a_id on a (id);\n"
                     "create index concurrently u_id on u (id);\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out


def test_not_null_without_default_fails_only_on_rows(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.write("db/migrations/006_b.sql", "alter table a add column b int not null;\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1
    assert result.lines[1] == (
        'db/migrations/006_b.sql:1: MG207 fails on the base\'s schema with 3 sample rows per '
        'table: column "b" of relation "a" contains null values [SQLSTATE 23502]')
    assert apply_repo.mg("apply", "--all").code == 0  # from empty it applies


def test_edited_merged_migration_is_not_run_again_on_the_upgrade_path(apply_repo: Repo) -> None:
    """Production never re-runs a merged file: immutable reports the edit, apply does not
    replay it on the base's schema (where "relation already exists" would be noise)."""
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.write("db/migrations/001_init.sql", "create table a (id int, note text);\n")
    apply_repo.write("db/migrations/006_b.sql", "alter table a add column b int;\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out
    # Only the trace's warning about the new ALTER's lock: no failure replaying 001.
    assert result.lines[-1] == "1 finding, 1 of them a warning (apply over 1 project)"


def test_failing_cast_on_rows_fails_the_upgrade_path(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.commit("names", "db/migrations/006_name.sql", "alter table a add column n text;\n")
    apply_repo.write("db/migrations/007_cast.sql",
                     "alter table a alter column n type int using n::int;\n")
    apply_repo.add()
    result = apply_repo.mg("apply", "--base", "main~0")
    assert result.code == 1, result.out
    assert result.lines[1].startswith("db/migrations/007_cast.sql:1: MG207 ")


def test_staged_content_is_applied_not_the_working_tree(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.write("db/migrations/006_ok.sql", "create table ok (id int);\n")
    apply_repo.add()
    apply_repo.write("db/migrations/006_ok.sql", "this is not sql;\n")
    apply_repo.write("db/migrations/007_untracked.sql", "neither is this;\n")
    assert apply_repo.mg("apply").code == 0
    apply_repo.write("db/migrations/006_ok.sql", "broken sql;\n")
    apply_repo.git("add", "db/migrations/006_ok.sql")
    apply_repo.write("db/migrations/006_ok.sql", "create table ok (id int);\n")
    result = apply_repo.mg("apply")
    assert result.code == 1
    assert result.lines[1].startswith("db/migrations/006_ok.sql:1: MG201 ")


def test_nothing_to_do_when_no_migration_is_staged(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.write("README.md", "hello\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 0
    assert result.lines[-1] == "no findings (apply over 1 project)"


def test_prelude_and_seed_run_around_the_migrations(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.write(".migration-guard.yaml",
                     "projects:\n  - migrations: db/migrations\n    framework: sql\n"
                     "    prelude: [db/prelude.sql]\n    seed: [db/seed.sql]\n")
    apply_repo.write("db/prelude.sql", "create schema auth;\ncreate role authenticated;\n")
    apply_repo.write("db/seed.sql", "insert into a values (1);\ninsert into missing values (1);\n")
    apply_repo.write("db/migrations/006_p.sql", "create table auth.users (id int);\n"
                     "grant select on auth.users to authenticated;\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert result.lines[1].startswith(
        'db/seed.sql:2: MG201 seed failed to apply: relation "missing" does not exist')


def test_whole_run_limit_is_a_failure(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["sql"])
    apply_repo.write(".migration-guard.yaml", "database:\n  statement_timeout: 1\n")
    apply_repo.write("db/migrations/006_slow.sql", "select pg_sleep(3);\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1
    assert result.lines[1] == ("db/migrations/006_slow.sql:1: MG202 statement hit "
                               "statement_timeout (1 s): select pg_sleep(3)")
