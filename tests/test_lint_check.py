"""The lint check over a change set: only new or edited migrations, in order, per framework."""

from __future__ import annotations

from conftest import Repo
from layouts import BY_NAME, revision, setup

SUPA = "supabase/migrations"


def lint_codes(result_out: str) -> list[str]:
    return [line.split(": ")[0] + " " + line.split(": ")[1].split(" ")[0]
            for line in result_out.splitlines() if ": MG" in line]


def test_index_on_existing_table_is_flagged(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.branch("feature")
    repo.write(f"{SUPA}/20240105000000_idx.sql",
               "set lock_timeout = '2s'; set statement_timeout = '5s';\n"
               "create index users_id_idx on users (id);\n")
    repo.add()
    result = repo.mg("lint")
    assert result.code == 1, result.out + result.err
    assert lint_codes(result.out) == [f"{SUPA}/20240105000000_idx.sql:2:1 MG301"]


def test_index_on_table_created_earlier_in_the_change_is_fine(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.branch("feature")
    repo.write(f"{SUPA}/20240105000000_t.sql",
               "create table teams (id bigint generated always as identity primary key);\n")
    repo.write(f"{SUPA}/20240106000000_idx.sql",
               "create index teams_id_idx on teams (id);\n")
    repo.add()
    result = repo.mg("lint")
    assert result.code == 0, result.out + result.err


def test_merged_migrations_are_not_linted(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.commit("risky but merged", f"{SUPA}/20240104000000_drop.sql", "drop table a;\n")
    repo.branch("feature")
    repo.write("README.md", "x\n")
    repo.add()
    assert repo.mg("lint").code == 0


def test_dbmate_down_section_is_not_linted(repo: Repo) -> None:
    setup(repo, BY_NAME["dbmate"])
    repo.branch("feature")
    repo.write("db/migrations/20240105000000_t.sql",
               "-- migrate:up\ncreate table teams (id bigint primary key);\n\n"
               "-- migrate:down\ndrop table teams;\n")
    repo.add()
    result = repo.mg("lint")
    assert result.code == 0, result.out


def test_golang_migrate_down_files_are_not_linted(repo: Repo) -> None:
    setup(repo, BY_NAME["golang-migrate"])
    repo.branch("feature")
    repo.write("migrations/000006_t.up.sql", "create table teams (id bigint primary key);\n")
    repo.write("migrations/000006_t.down.sql", "drop table teams;\n")
    repo.add()
    assert repo.mg("lint").code == 0


def test_malformed_sql_is_a_finding_with_line_and_column(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.branch("feature")
    repo.write(f"{SUPA}/20240105000000_bad.sql", "select 1;\nselect select;\n")
    repo.add()
    result = repo.mg("lint")
    assert result.code == 1
    assert lint_codes(result.out) == [f"{SUPA}/20240105000000_bad.sql:2:8 MG300"]


def test_alembic_revision_is_linted_as_rendered_sql_at_the_op_line(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    repo.write("migrations/versions/0003_idx.py",
               revision("0003", "0002", "op.create_index('users_name_idx', 'users', ['name'])"))
    repo.add()
    result = repo.mg("lint")
    assert result.code == 1, result.out + result.err
    codes = lint_codes(result.out)
    assert "migrations/versions/0003_idx.py:12:5 MG301" in codes


def test_lint_of_files_named_on_the_command_line(repo: Repo) -> None:
    repo.write("one.sql", "alter table users alter column name set not null;\n")
    result = repo.mg("lint", "one.sql")
    assert result.code == 1
    assert "one.sql:1:1 MG303" in lint_codes(result.out)


def test_online_only_env_py_never_reaches_the_configured_database(repo: Repo) -> None:
    layout = BY_NAME["alembic"]
    setup(repo, layout)
    online_only = layout.files["migrations/env.py"].split("def run_migrations_offline")[0] + (
        "def run_migrations_online():\n"
        "    connectable = engine_from_config(config.get_section(config.config_ini_section),\n"
        "                                     prefix='sqlalchemy.', poolclass=pool.NullPool)\n"
        "    with connectable.connect() as connection:\n"
        "        context.configure(connection=connection, target_metadata=target_metadata)\n"
        "        with context.begin_transaction():\n"
        "            context.run_migrations()\n\n\nrun_migrations_online()\n")
    repo.commit("online only", "migrations/env.py", online_only)
    repo.branch("feature")
    repo.write("migrations/versions/0003_idx.py", revision("0003", "0002"))
    repo.add()
    env = dict(repo.env, DATABASE_URL="postgresql://app:s3cret@127.0.0.1:5432/postgres")
    result = repo.mg("lint", env=env)
    assert result.code == 2
    assert "migration-guard-offline.invalid" in result.err
    assert "s3cret" not in result.err + result.out
    assert "127.0.0.1" not in result.err


def test_config_lint_keys_mirror_lint_options() -> None:
    from migration_guard.config import LINT_KEYS
    from migration_guard.lint import LintOptions

    assert {k: v.default for k, v in LINT_KEYS.items()} == LintOptions._field_defaults


def test_lint_settings_from_config_and_project_override(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.write(".migration-guard.yaml",
               "lint:\n  ignore: [MG301]\nprojects:\n  - framework: supabase\n"
               "    lint:\n      extend_select: [table-without-primary-key]\n")
    repo.commit("config")
    repo.branch("feature")
    repo.write(f"{SUPA}/20240105000000_t.sql",
               "set lock_timeout = '2s'; set statement_timeout = '5s';\n"
               "create index users_id_idx on users (id);\n"
               "create table logs (line text);\n")
    repo.add()
    result = repo.mg("lint")
    assert result.code == 1
    assert lint_codes(result.out) == [f"{SUPA}/20240105000000_t.sql:3:1 MG370"]


def test_unknown_rule_in_lint_config_is_exit_2(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.commit("config", ".migration-guard.yaml", "lint:\n  ignore: [MG999]\n")
    repo.branch("feature")
    repo.write(f"{SUPA}/20240105000000_t.sql", "select 1;\n")
    repo.add()
    result = repo.mg("lint")
    assert result.code == 2
    assert result.err.startswith("migration-guard: error: .migration-guard.yaml: lint: ")


def test_project_lint_setting_overrides_the_same_top_level_key(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.write(".migration-guard.yaml",
               "lint:\n  ignore: [MG301]\nprojects:\n  - framework: supabase\n"
               "    lint:\n      ignore: [MG370]\n")
    repo.commit("config")
    repo.branch("feature")
    repo.write(f"{SUPA}/20240105000000_t.sql",
               "set lock_timeout = '2s'; set statement_timeout = '5s';\n"
               "create index users_id_idx on users (id);\n")
    repo.add()
    result = repo.mg("lint")
    assert result.code == 1, result.err
    assert lint_codes(result.out) == [f"{SUPA}/20240105000000_t.sql:2:1 MG301"]


def test_postgres_version_is_the_lints_server_major(repo: Repo) -> None:
    setup(repo, BY_NAME["sql"])
    repo.write("db/migrations/006_b.sql", "alter table a add column b int default 0;\n")
    repo.add()
    before = lint_codes(repo.mg("lint").out)
    assert "db/migrations/006_b.sql:1:1 MG305" not in before
    repo.write(".migration-guard.yaml", "postgres:\n  version: 10\n")
    repo.add()
    assert "db/migrations/006_b.sql:1:1 MG305" in lint_codes(repo.mg("lint").out)
