"""Files over 2 MB are parsed in pieces (bounded memory): the findings, their positions and
ignore comments are the same as for a file parsed whole, whatever a cut falls into."""

from __future__ import annotations

from migration_guard.lint import LintOptions, lint_sql

DROPS = LintOptions(select=("MG320",))
FILLER = "INSERT INTO a VALUES (1);\n"  # 26 characters, one line
MEGABYTE_OF_FILLER = FILLER * 40_330  # just over 1 MB: the size of a piece


def positions(sql: str, options: LintOptions = DROPS) -> list[tuple[str, int | None, int | None]]:
    return [(f.code, f.line, f.column) for f in lint_sql(sql, "m.sql", options=options).findings]


def test_finding_after_non_ascii_text_keeps_its_line_and_column() -> None:
    sql = "-- données\n" + MEGABYTE_OF_FILLER * 3 + "SELECT 'é';  DROP TABLE t;\n"
    assert positions(sql) == [("MG320", 3 * 40_330 + 2, 14)]


def test_function_body_across_a_cut_stays_one_statement() -> None:
    body = "SELECT 1;\n" * 60_000  # 600 KB of lines ending in ";": candidate cuts
    sql = (MEGABYTE_OF_FILLER[: -26 * 10_000]
           + "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC\n" + body + "END;\n"
           + "CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n"
           + "  DROP TABLE inside_body;\n" * 40_000 + "END $$;\n"
           + MEGABYTE_OF_FILLER * 2 + "DROP TABLE t;\n")
    assert len(sql) > 4_500_000
    assert positions(sql) == [("MG320", sql.count("\n"), 1)]


def test_syntax_error_deep_in_a_large_file_names_its_line() -> None:
    sql = MEGABYTE_OF_FILLER * 3 + "SELECT * FROM orders WHERE;\n" + MEGABYTE_OF_FILLER
    assert positions(sql, LintOptions()) == [("MG300", 3 * 40_330 + 1, 27)]


def test_ignore_comment_deep_in_a_large_file_applies_to_its_statement() -> None:
    sql = (MEGABYTE_OF_FILLER * 2 + "-- migration-guard: ignore[MG320] archived table\n"
           + "DROP TABLE old;\n" + MEGABYTE_OF_FILLER + "DROP TABLE t;\n")
    assert positions(sql) == [("MG320", sql.count("\n"), 1)]
