"""Rule scopes checked against PostgreSQL's behaviour on real-looking migrations: our own
advice passes, what fails at deploy is caught, what is harmless is not flagged."""

from __future__ import annotations

import pytest
from lint_cases import OWN_FIX, codes

from migration_guard.lint import LintOptions, lint_sql


@pytest.mark.parametrize("pg_version", [12, 16])
def test_set_not_null_after_validated_check_is_clean_with_default_rules(pg_version: int) -> None:
    assert codes(OWN_FIX, pg_version=pg_version) == []


def test_set_not_null_after_validated_check_still_scans_before_pg12() -> None:
    assert codes(OWN_FIX, select=("MG303",), pg_version=11) == [("MG303", 7)]


def test_set_not_null_needs_the_check_validated_not_just_added() -> None:
    sql = ("ALTER TABLE orders ADD CONSTRAINT orders_total_nn CHECK (total IS NOT NULL) "
           "NOT VALID;\nALTER TABLE orders ALTER COLUMN total SET NOT NULL;")
    assert codes(sql, select=("MG303",)) == [("MG303", 2)]


def test_add_column_not_null_without_default_fails_at_lint() -> None:
    sql = "SET lock_timeout = '2s';\nSET statement_timeout = '5s';\n" \
          "ALTER TABLE users ADD COLUMN plan text NOT NULL;"
    assert codes(sql) == [("MG331", 3)]
    assert codes(sql.replace("NOT NULL", "NOT NULL DEFAULT 'free'")) == []
    assert codes(sql.replace("text NOT NULL", "bigint GENERATED ALWAYS AS (1) STORED NOT NULL"),
                 select=("MG331",)) == []


def test_add_column_references_is_a_foreign_key() -> None:
    sql = "ALTER TABLE orders ADD COLUMN user_id bigint REFERENCES users (id);"
    assert codes(sql, select=("MG302",)) == [("MG302", 1)]
    assert codes(sql, select=("MG374",)) == [("MG374", 1)]


def test_add_generated_stored_column_is_a_rewrite() -> None:
    sql = ("ALTER TABLE orders ADD COLUMN total_cents bigint "
           "GENERATED ALWAYS AS (total * 100) STORED;")
    assert codes(sql, select=("MG305",)) == [("MG305", 1)]


@pytest.mark.parametrize("sql, flagged", [
    ("VACUUM (FULL FALSE) orders;", False), ("VACUUM (FULL off) orders;", False),
    ("VACUUM (FULL 0) orders;", False), ("VACUUM (FULL) orders;", True),
    ("VACUUM (FULL true, ANALYZE) orders;", True), ("VACUUM FULL orders;", True),
])
def test_vacuum_full_only_when_full_is_on(sql: str, flagged: bool) -> None:
    assert codes(sql, select=("MG308",)) == ([("MG308", 1)] if flagged else [])


def test_rollback_inside_the_runners_transaction_is_stray() -> None:
    sql = "ALTER TABLE orders ADD COLUMN note text;\nROLLBACK;"
    assert codes(sql, select=("MG343",), in_transaction=True) == [("MG343", 2)]


def test_nested_begin_and_its_commit_are_one_finding() -> None:
    sql = "BEGIN;\nSELECT 1;\nCOMMIT;"
    assert codes(sql, select=("MG341", "MG343"), in_transaction=True) == [("MG341", 1)]


def test_varchar_and_char_are_separate_rules() -> None:
    sql = "CREATE TABLE c (code char(2), name varchar(80), note varchar);"
    assert codes(sql, select=("MG350",)) == [("MG350", 1)]
    assert codes(sql, select=("MG354",)) == [("MG354", 1)]


def test_plain_truncate_and_cascade_are_separate_rules() -> None:
    assert codes("TRUNCATE orders;", select=("MG326", "MG332")) == [("MG326", 1)]
    assert codes("TRUNCATE orders CASCADE;", select=("MG326", "MG332")) == [("MG332", 1)]


def test_int_beyond_keys_is_opt_in() -> None:
    sql = "CREATE TABLE orders (id bigint PRIMARY KEY, quantity integer);"
    assert codes(sql) == []
    assert codes(sql, extend_select=("prefer-bigint",)) == [("MG355", 1)]


def test_type_and_timeout_rules_are_warnings_and_severity_is_configurable() -> None:
    sql = "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(80));\n" \
          "ALTER TABLE orders ADD COLUMN note text;"
    found = lint_sql(sql, "m.sql", options=LintOptions()).findings
    assert [(f.code, f.severity) for f in found] == [
        ("MG350", "warning"), ("MG309", "warning"), ("MG313", "warning")]
    raised = lint_sql(sql, "m.sql", options=LintOptions(severity=(("prefer-text", "error"),)))
    assert (raised.findings[0].code, raised.findings[0].severity) == ("MG350", "error")


def test_exempt_tables_skip_one_rule_on_the_listed_tables() -> None:
    sql = "CREATE TABLE auth.users (id bigint);\nCREATE TABLE orders (id bigint);"
    exempt = (("MG371", ("auth.users",)),)
    assert codes(sql, select=("MG371",), exempt_tables=exempt) == [("MG371", 2)]
    assert codes(sql, select=("MG371", "MG370"), exempt_tables=exempt) == [
        ("MG370", 1), ("MG370", 2), ("MG371", 2)]


def test_explicit_on_delete_no_action_is_a_choice() -> None:
    sql = ("ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) "
           "REFERENCES users (id) ON DELETE NO ACTION NOT VALID;")
    assert codes(sql, select=("MG381",)) == []


def test_foreign_key_name_pattern_is_configurable() -> None:
    sql = ("CREATE TABLE orders (id bigint, user_id bigint REFERENCES users (id));\n"
           "ALTER TABLE orders ADD CONSTRAINT fk_orders_user FOREIGN KEY (user_id) "
           "REFERENCES users (id) NOT VALID;")
    assert codes(sql, select=("MG380",)) == [("MG380", 2)]
    assert codes(sql, select=("MG380",), foreign_key_name_pattern="fk_{table}_user") == [
        ("MG380", 1)]


@pytest.mark.parametrize("comment", [
    "-- squawk-ignore adding-required-field",
    "-- squawk-ignore prefer-robust-stmts, adding-required-field",
    "-- squawk-ignore",
])
def test_squawk_ignore_comment_covers_the_next_statement(comment: str) -> None:
    sql = (f"{comment}\nALTER TABLE users ADD COLUMN plan text NOT NULL;\n"
           "ALTER TABLE users ADD COLUMN tier text NOT NULL;")
    assert codes(sql, select=("MG331",), report_unused_ignores=True) == [("MG331", 3)]


def test_squawk_ignore_file_and_unknown_rule_names() -> None:
    sql = ("-- squawk-ignore-file adding-required-field\n"
           "ALTER TABLE users ADD COLUMN plan text NOT NULL;\n"
           "-- squawk-ignore no-such-rule\nALTER TABLE users ADD COLUMN tier text NOT NULL;")
    assert codes(sql, select=("MG331",)) == [("MG393", 3)]


def test_identifier_longer_than_63_bytes_in_any_definition() -> None:
    long = "orders_" + "é" * 30
    sql = f"CREATE INDEX CONCURRENTLY \"{long}\" ON orders (id);\nSELECT 'x{'y' * 80}';"
    assert codes(sql, select=("MG361",)) == [("MG361", 1)]


def test_duplicate_assignment_in_insert_and_on_conflict() -> None:
    sql = ("INSERT INTO plans (id, name, name) VALUES (1, 'a', 'b');\n"
           "INSERT INTO plans (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = 2, id = 3;")
    assert codes(sql, select=("MG362",)) == [("MG362", 1), ("MG362", 2)]


def test_detach_partition_flagged_only_where_concurrently_exists() -> None:
    sql = "ALTER TABLE events DETACH PARTITION events_2020;"
    assert codes(sql, select=("MG312",), pg_version=13) == []
    assert codes(sql, select=("MG312",), pg_version=14) == [("MG312", 1)]


def test_validate_in_the_runners_transaction_keeps_the_add_constraint_lock() -> None:
    sql = ("ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
           "REFERENCES users (id) NOT VALID;\n"
           "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;")
    assert codes(sql, select=("MG302",)) == []
    assert codes(sql, select=("MG302",), in_transaction=True) == [("MG302", 2)]


def test_severity_applies_to_findings_made_by_the_parser_and_the_ignores() -> None:
    sql = "SELECT 1;\n\\set x 1\n-- migration-guard: ignore[MG999] why\nSELECT 2;"
    options = LintOptions(severity=(("MG390", "warning"), ("MG393", "warning")))
    found = lint_sql(sql, "m.sql", options=options).findings
    assert [(f.code, f.severity) for f in found] == [("MG390", "warning"), ("MG393", "warning")]
