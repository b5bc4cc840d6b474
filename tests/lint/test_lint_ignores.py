"""Ignore comments: codes required, unknown codes and missing reasons reported, unused
ignores reported on request, SQL and Python forms."""

from __future__ import annotations

import pytest
from lint_cases import codes

from migration_guard.errors import GuardError
from migration_guard.lint import LintOptions, enabled_codes
from migration_guard.lint.ignores import python_ignores

DROP = "DROP TABLE orders;\n"


def test_ignore_applies_to_next_statement_only() -> None:
    sql = f"-- migration-guard: ignore[MG320] archived in 0041\n{DROP}{DROP}"
    assert codes(sql, select=("MG320",)) == [("MG320", 3)]


def test_ignore_accepts_names_and_several_codes() -> None:
    sql = ("-- migration-guard: ignore[drop-table, MG309] archived in 0041\n"
           "DROP TABLE orders;\n")
    assert codes(sql, select=("MG320", "MG309"), report_unused_ignores=True) == []


def test_bare_ignore_is_reported() -> None:
    sql = f"-- migration-guard: ignore because reasons\n{DROP}"
    assert codes(sql, select=("MG320",)) == [("MG392", 1), ("MG320", 2)]


def test_unknown_directive_is_reported() -> None:
    assert codes(f"-- migration-guard: ignroe[MG320] x\n{DROP}", select=("MG320",)) == [
        ("MG392", 1), ("MG320", 2)]


def test_unknown_code_is_reported_and_known_one_still_applies() -> None:
    sql = f"-- migration-guard: ignore[MG999, MG320] archived\n{DROP}"
    assert codes(sql, select=("MG320",)) == [("MG393", 1)]


def test_missing_reason_is_reported_but_ignore_applies() -> None:
    assert codes(f"-- migration-guard: ignore[MG320]\n{DROP}", select=("MG320",)) == [
        ("MG394", 1)]


def test_unused_ignore_reported_only_when_asked() -> None:
    sql = "-- migration-guard: ignore[MG320] stale\nSELECT 1;\n"
    assert codes(sql, select=("MG320",)) == []
    assert codes(sql, select=("MG320",), report_unused_ignores=True) == [("MG395", 1)]


def test_ignore_inside_string_literal_is_not_a_directive() -> None:
    sql = f"SELECT '-- migration-guard: ignore[MG320] x';\n{DROP}"
    assert codes(sql, select=("MG320",)) == [("MG320", 2)]


def test_ignore_cannot_silence_syntax_errors() -> None:
    sql = "-- migration-guard: ignore-file[MG300] trust me\nSELECT FROM WHERE;"
    assert codes(sql) == [("MG300", 2)]


def test_select_and_ignore_accept_codes_and_names() -> None:
    enabled = enabled_codes(LintOptions(select=("all",), ignore=("drop-table", "MG301")))
    assert "MG320" not in enabled and "MG301" not in enabled and "MG377" in enabled
    assert "MG370" in enabled_codes(LintOptions(extend_select=("table-without-primary-key",)))
    assert "MG370" not in enabled_codes(LintOptions())


def test_unknown_rule_in_options_is_a_config_error() -> None:
    with pytest.raises(GuardError, match="unknown rule 'MG999'"):
        enabled_codes(LintOptions(select=("MG999",)))


def test_mandatory_codes_cannot_be_disabled() -> None:
    with pytest.raises(GuardError, match="cannot disable MG300"):
        enabled_codes(LintOptions(ignore=("sql-syntax-error",)))


def test_python_ignores_cover_next_code_line_or_own_line() -> None:
    source = (
        "def upgrade():\n"
        "    # migration-guard: ignore[MG301] small table\n"
        "\n"
        "    op.create_index('a_b_idx', 'a', ['b'])\n"
        "    op.execute('DELETE FROM c')  # migration-guard: ignore[MG327] cache table\n"
        "    s = '# migration-guard: ignore[MG320] not a comment'\n"
        "# migration-guard: ignore-file[MG320, MG999]\n"
    )
    ignores, problems = python_ignores(source, "v.py")
    assert [(i.codes, i.line, i.whole_file, i.target) for i in ignores] == [
        (("MG301",), 2, False, (4, None)),
        (("MG327",), 5, False, (5, None)),
        (("MG320",), 7, True, None),
    ]
    assert [(p.code, p.line) for p in problems] == [("MG393", 7), ("MG394", 7)]
