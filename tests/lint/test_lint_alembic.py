"""Alembic revisions linted as their offline SQL and mapped back to the op.* call lines,
against a real Alembic project under fixtures/ (offline mode, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_guard.errors import GuardError
from migration_guard.lint import LintOptions
from migration_guard.lint.alembic_sql import find_op_calls, lint_alembic_revision

PROJECT = Path(__file__).parent / "fixtures" / "alembic_project"
INI = PROJECT / "alembic.ini"


def _lint(revision: str, name: str, **options: object) -> list[tuple[str, int | None]]:
    path = PROJECT / "versions" / name
    result = lint_alembic_revision(INI, revision, f"versions/{name}", path.read_text(),
                                   options=LintOptions(**options))  # type: ignore[arg-type]
    return [(f.code, f.line) for f in result.findings]


def test_first_revision_skips_version_table_and_creates_users() -> None:
    path = PROJECT / "versions" / "0001_create_users.py"
    result = lint_alembic_revision(INI, "0001", "v/0001.py", path.read_text(),
                                   options=LintOptions())
    assert result.findings == []
    assert result.created_tables == frozenset({"users"})


def test_op_execute_raw_sql_maps_to_call_lines_and_python_ignore_applies() -> None:
    assert _lint("0002", "0002_raw_sql.py") == [("MG313", 11), ("MG303", 14), ("MG301", 17)]


def test_python_ignore_counts_as_used() -> None:
    found = _lint("0002", "0002_raw_sql.py", select=("MG301", "MG327"),
                  report_unused_ignores=True)
    assert found == [("MG301", 17)]


def test_autocommit_block_statements_are_outside_the_transaction() -> None:
    assert _lint("0003", "0003_autocommit.py") == [("MG340", 15)]


def test_unknown_revision_is_a_guard_error() -> None:
    with pytest.raises(GuardError,
                       match="could not render revision nope as SQL: CommandError: Can't locate"):
        lint_alembic_revision(INI, "nope", "x.py", "", options=LintOptions())


def test_op_calls_in_order_with_literal_statement_counts() -> None:
    source = (PROJECT / "versions" / "0002_raw_sql.py").read_text()
    assert [(c.line, c.name, c.statements) for c in find_op_calls(source)] == [
        (10, "execute", 1), (11, "add_column", None), (13, "execute", 1),
        (14, "execute", 1), (17, "create_index", None)]
