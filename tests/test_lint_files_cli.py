"""``migration-guard lint FILE...``: the repository's config and ``--config`` apply, warnings
exit 0 (1 under ``fail_on: warning``), errors exit 1, GitHub annotations carry the severity."""

from __future__ import annotations

from pathlib import Path

from conftest import Repo

NEW_COLUMN = "ALTER TABLE users ADD COLUMN bio text;\n"
REQUIRED_COLUMN = ("SET lock_timeout = '2s';\nSET statement_timeout = '5s';\n"
                   "ALTER TABLE users ADD COLUMN plan text NOT NULL;\n")


def test_warnings_are_printed_and_exit_0(repo: Repo) -> None:
    repo.write("db/V2__bio.sql", NEW_COLUMN)
    result = repo.mg("lint", "db/V2__bio.sql")
    assert (result.code, result.lines) == (0, [
        "migration-guard: linting 1 file(s) as named",
        'db/V2__bio.sql:1:1: MG309 warning: this statement waits for a lock on "users" with '
        "no lock_timeout: stuck behind one long-running query, it makes every later read and "
        'write of "users" queue behind it, an outage for its users',
        "  hint: add SET lock_timeout = '2s'; before it (and retry the migration on timeout), "
        "so a blocked lock request fails fast instead of queueing traffic",
        'db/V2__bio.sql:1:1: MG313 warning: this statement holds a strong lock on "users" with '
        "no statement_timeout: if it runs long (a scan, a rewrite), every read and write of "
        '"users" waits for as long as it runs',
        "  hint: add SET statement_timeout = '5s'; (or what the step needs) before it, so a "
        "slow statement fails and releases its lock instead of blocking traffic",
        "2 findings, 2 of them warnings (lint over 1 project)",
    ])


def test_fail_on_warning_makes_warnings_exit_1(repo: Repo) -> None:
    repo.write(".migration-guard.yaml", "fail_on: warning\n")
    repo.write("db/V2__bio.sql", NEW_COLUMN)
    assert repo.mg("lint", "db/V2__bio.sql").code == 1


def test_errors_exit_1(repo: Repo) -> None:
    repo.write("db/V2__plan.sql", REQUIRED_COLUMN)
    result = repo.mg("lint", "db/V2__plan.sql")
    assert result.code == 1
    assert result.lines[1].startswith("db/V2__plan.sql:3:1: MG331 ADD COLUMN \"plan\" NOT NULL")


def test_github_format_annotates_warnings_as_warnings(repo: Repo) -> None:
    repo.write("db/V2__bio.sql", "SET lock_timeout = '2s';\n" + NEW_COLUMN)
    result = repo.mg("lint", "--format", "github", "db/V2__bio.sql")
    assert result.code == 0
    assert result.lines[1].startswith(
        "::warning file=db/V2__bio.sql,line=2,col=1,title=MG313 missing-statement-timeout::")


def test_repository_config_applies_to_named_files_from_a_subdirectory(repo: Repo) -> None:
    repo.write(".migration-guard.yaml",
               "lint:\n  select: all\n  severity:\n    missing-lock-timeout: error\n")
    repo.write("db/V2__bio.sql", NEW_COLUMN)
    result = repo.mg("lint", "V2__bio.sql", cwd=repo.path / "db")
    assert result.code == 1
    codes = [line.split(": ")[1].split()[0] for line in result.lines[1:-1]
             if not line.startswith("  hint")]
    assert codes == ["MG309", "MG313", "MG360", "MG378"]
    assert " MG309 this statement waits" in result.lines[1]


def test_config_outside_the_repository_enables_an_opt_in_rule(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "shared-lint.yaml"
    outside.write_text("lint:\n  select: [all]\n  ignore: [MG309, MG313, MG360]\n"
                       "  exempt_tables:\n    table-without-schema: [audit_logs]\n")
    repo.write("db/V2__t.sql", "CREATE TABLE audit_logs (id bigint);\nDROP TABLE orders;\n")
    result = repo.mg("lint", "--config", str(outside), "db/V2__t.sql")
    assert result.code == 1
    assert [line.split(": ")[1].split()[0] for line in result.lines[1:-1]
            if not line.startswith("  hint")] == [
        "MG370", "MG371", "MG372", "MG373", "MG377", "MG320", "MG378"]


def test_unknown_rule_in_config_exits_2(repo: Repo) -> None:
    repo.write(".migration-guard.yaml", "lint:\n  severity:\n    no-such-rule: warning\n")
    repo.write("db/V2__bio.sql", NEW_COLUMN)
    result = repo.mg("lint", "db/V2__bio.sql")
    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "migration-guard: error: .migration-guard.yaml: lint: lint option severity names "
        "unknown rule 'no-such-rule'")


def test_unreadable_file_exits_2(repo: Repo) -> None:
    result = repo.mg("lint", "missing.sql")
    assert result.code == 2
    assert result.err.startswith("migration-guard: error: cannot read missing.sql")


def test_staged_lint_reads_a_config_outside_the_repository(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "team-lint.yaml"
    outside.write_text("projects:\n  - framework: sql\n    migrations: db\n"
                       "lint:\n  extend_select: [table-without-schema]\n")
    repo.commit("base", "db/001_init.sql", "SELECT 1;\n")
    repo.write("db/002_users.sql", "SET lock_timeout = '2s'; SET statement_timeout = '5s';\n"
               "CREATE TABLE users (id bigint PRIMARY KEY);\n")
    repo.add()
    result = repo.mg("lint", "--config", str(outside))
    assert result.code == 1, result.err
    assert result.lines[1].startswith(
        'db/002_users.sql:2:1: MG378 table "users" is named without its schema')


def test_bad_severity_value_is_a_config_error(repo: Repo) -> None:
    repo.write(".migration-guard.yaml", "lint:\n  severity:\n    MG350: fatal\n")
    repo.write("db/V2__bio.sql", NEW_COLUMN)
    result = repo.mg("lint", "db/V2__bio.sql")
    assert result.code == 2
    assert result.err.splitlines() == [
        "migration-guard: error: .migration-guard.yaml:3: lint.severity.MG350: 'fatal' is "
        "not allowed",
        "  hint: use one of: error, warning",
    ]


def test_postgres_version_applies_to_named_files(repo: Repo) -> None:
    """REINDEX ... CONCURRENTLY exists from PostgreSQL 12: on 11 there is nothing to advise,
    as for the staged change."""
    reindex = "SET lock_timeout = '2s';\nSET statement_timeout = '5s';\nREINDEX TABLE users;\n"
    repo.write("db/V2__reindex.sql", reindex)
    assert repo.mg("lint", "db/V2__reindex.sql").lines[1].startswith(
        "db/V2__reindex.sql:3:1: MG311 REINDEX users without CONCURRENTLY")
    repo.write(".migration-guard.yaml", "postgres:\n  version: 11\n")
    assert repo.mg("lint", "db/V2__reindex.sql").lines == [
        "migration-guard: linting 1 file(s) as named",
        "no findings (lint over 1 project)",
    ]
