"""Input robustness: malformed SQL, encodings, empty files, huge files, dollar quoting,
psql meta-commands. Never a traceback; always a finding with a position."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from lint_cases import codes

from migration_guard.lint import LintOptions, lint_bytes, lint_sql

OPTIONS = LintOptions()


def test_malformed_sql_reports_line_and_column() -> None:
    sql = "-- é\nSELECT 1;\nSELECT * FROM orders WHERE;\n"
    [finding] = lint_sql(sql, "m.sql", options=OPTIONS).findings
    assert (finding.code, finding.line, finding.column) == ("MG300", 3, 27)
    assert finding.message == (
        'syntax error at or near ";": PostgreSQL rejects this file, so the migration fails '
        "at deploy time (and no other rule could check it)")


def test_column_counts_characters_not_bytes() -> None:
    sql = "SELECT 'ééé', * FROM;"
    [finding] = lint_sql(sql, "m.sql", options=OPTIONS).findings
    assert (finding.line, finding.column) == (1, 21)


@pytest.mark.parametrize("sql", [
    "SELECT 'unterminated", "SELECT $$ never closed", "select select", "CREATE TABLE (",
    "ALTER TABLE t ADD COLUMN a int,", "((((", "\x00", "/* open comment",
])
def test_malformed_inputs_give_one_syntax_finding(sql: str) -> None:
    assert [code for code, _ in codes(sql)] == ["MG300"]


def test_non_utf8_file_reports_byte_position() -> None:
    data = b"SELECT 1;\nSELECT 'caf\xe9';\n"
    [finding] = lint_bytes(data, "m.sql", options=OPTIONS).findings
    assert (finding.code, finding.line, finding.column) == ("MG391", 2, 12)
    assert finding.message.startswith("byte 0xe9 at offset 21 is not valid UTF-8")


def test_utf8_bom_is_skipped() -> None:
    data = b"\xef\xbb\xbfDROP TABLE orders;\n"
    result = lint_bytes(data, "m.sql", options=LintOptions(select=("MG320",)))
    assert [(f.code, f.line, f.column) for f in result.findings] == [("MG320", 1, 1)]


@pytest.mark.parametrize("sql", ["", "\n\n", "-- nothing yet\n", "/* a */ -- b\n",
                                 "--> statement-breakpoint\n"])
def test_empty_or_comment_only_file_has_no_findings(sql: str) -> None:
    assert codes(sql) == []


def test_drizzle_breakpoints_are_comments() -> None:
    sql = ("CREATE TABLE users (id bigint PRIMARY KEY);\n--> statement-breakpoint\n"
           "DROP TABLE orders;\n")
    assert codes(sql, select=("MG320",)) == [("MG320", 3)]


def test_ten_thousand_statements_in_a_couple_of_seconds() -> None:
    sql = "".join(f"CREATE INDEX CONCURRENTLY t{i}_idx ON t{i % 50} (a);\n"
                  for i in range(10_000))
    start = time.perf_counter()
    found = codes(sql)
    assert time.perf_counter() - start < 2.0
    assert found == []


def test_dollar_quoted_bodies_are_not_linted_or_confusing() -> None:
    sql = (
        "DO $$\nBEGIN\n  DELETE FROM orders;  -- inside PL/pgSQL\n  DROP TABLE x;\nEND\n$$;\n"
        "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n  UPDATE t SET a = 1; RETURN NEW;\nEND;\n$body$;\n"
        "SELECT $tag$ ; DROP TABLE y; $tag$;\n"
        "DROP TABLE orders;\n"
    )
    assert codes(sql, select=("MG320", "MG327", "MG328")) == [("MG320", 13)]


def test_begin_atomic_function_body() -> None:
    sql = ("CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n"
           "END;\nDELETE FROM orders;\n")
    assert codes(sql, select=("MG327", "MG341", "MG342")) == [("MG327", 5)]


def test_psql_meta_commands_are_named_and_rest_is_linted() -> None:
    sql = "\\set ON_ERROR_STOP on\nSELECT 1;\n  \\i other.sql\n\\c app\nDROP TABLE orders;\n"
    result = lint_sql(sql, "m.sql", options=LintOptions(select=("MG320",)))
    assert [(f.code, f.line, f.column) for f in result.findings] == [
        ("MG390", 1, 1), ("MG390", 3, 3), ("MG390", 4, 1), ("MG320", 5, 1)]
    assert result.findings[1].message.startswith("psql meta-command \\i only works in psql")


def test_backslash_inside_string_is_not_a_meta_command() -> None:
    sql = "SELECT E'\n\\\\set x';\nSELECT * FROM;"
    assert codes(sql) == [("MG300", 3)]


def test_plain_sql_lint_does_not_import_alembic_sqlalchemy_or_psycopg() -> None:
    code = (
        "import sys\n"
        "from migration_guard.lint import LintOptions, lint_sql\n"
        "lint_sql('-- migration-guard: ignore[MG301] x\\nCREATE INDEX i ON t (a);', 'm.sql',"
        " options=LintOptions())\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('alembic', 'sqlalchemy', 'psycopg', 'dataclasses'))\n"
        "print(heavy)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert output == "[]\n"
