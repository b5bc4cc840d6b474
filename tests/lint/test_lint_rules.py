"""Each rule: a bad case reported on the exact line, a good case clean, and both kinds of
ignore comment silencing the bad case."""

from __future__ import annotations

import pytest
from lint_cases import CASES, Case, codes

_IDS = [case.code for case in CASES]


def _only(case: Case) -> dict[str, object]:
    return {"select": (case.code,)}


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_bad_case_is_reported(case: Case) -> None:
    assert codes(case.bad, **_only(case)) == [(case.code, case.line)]


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_good_case_is_clean(case: Case) -> None:
    assert codes(case.good, **_only(case)) == []


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_ignore_file_silences(case: Case) -> None:
    sql = f"-- migration-guard: ignore-file[{case.code}] accepted in review\n{case.bad}"
    assert codes(sql, **_only(case)) == []


@pytest.mark.parametrize("case", [c for c in CASES if c.code != "MG390"],
                         ids=[c for c in _IDS if c != "MG390"])
def test_ignore_comment_before_statement_silences(case: Case) -> None:
    lines = case.bad.split("\n")
    lines.insert(case.line - 1, f"-- migration-guard: ignore[{case.code}] accepted in review")
    assert codes("\n".join(lines), **_only(case), report_unused_ignores=True) == []


def test_rules_enabled_by_default_report_together() -> None:
    sql = ("CREATE TABLE users (id serial PRIMARY KEY, name varchar(20));\n"
           "CREATE INDEX users_name_idx ON users (name);\n"
           "CREATE INDEX orders_user_idx ON orders (user_id);\n")
    assert codes(sql) == [("MG350", 1), ("MG351", 1), ("MG353", 1), ("MG301", 3),
                          ("MG309", 3), ("MG313", 3)]


def test_index_message_states_consequence() -> None:
    from migration_guard.lint import LintOptions, lint_sql

    [finding] = lint_sql("CREATE INDEX orders_user_idx ON orders (user_id);", "m.sql",
                         options=LintOptions(select=("MG301",))).findings
    assert finding == finding._replace(code="MG301", path="m.sql", line=1, column=1,
                                       check="lint")
    assert finding.message == (
        'CREATE INDEX orders_user_idx on existing table "orders" without CONCURRENTLY '
        "blocks every INSERT, UPDATE and DELETE on it until the index is built")
    assert finding.hint == (
        "use CREATE INDEX CONCURRENTLY, outside a transaction block (its own migration, or "
        "Alembic's autocommit_block())")


def test_table_created_earlier_in_file_is_exempt_from_locking_rules() -> None:
    sql = ("CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\n"
           "CREATE INDEX orders_total_idx ON orders (total);\n"
           "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;\n")
    assert codes(sql) == []


def test_table_created_earlier_in_change_set_is_exempt() -> None:
    from migration_guard.lint import LintOptions, lint_sql

    first = lint_sql("CREATE TABLE s.orders (id bigint PRIMARY KEY);", "1.sql",
                     options=LintOptions())
    assert first.created_tables == frozenset({"s.orders"})
    second = lint_sql("CREATE INDEX orders_id_idx ON s.orders (id);", "2.sql",
                      options=LintOptions(), created_tables=first.created_tables)
    assert second.findings == []
    unrelated = lint_sql("CREATE INDEX orders_id_idx ON orders (id);", "2.sql",
                         options=LintOptions(select=("MG301",)),
                         created_tables=first.created_tables)
    assert [f.code for f in unrelated.findings] == ["MG301"]


def test_default_is_a_rewrite_only_before_pg11() -> None:
    sql = "ALTER TABLE orders ADD COLUMN flag boolean DEFAULT false;"
    assert codes(sql, select=("MG305",), pg_version=10) == [("MG305", 1)]
    assert codes(sql, select=("MG305",), pg_version=11) == []


def test_concurrently_flagged_when_runner_wraps_file_in_transaction() -> None:
    sql = "SELECT 1;\nCREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);"
    assert codes(sql, select=("MG340",), in_transaction=True) == [("MG340", 2)]
    assert codes(sql, select=("MG340",)) == []


def test_begin_when_runner_wraps_file_is_nested() -> None:
    assert codes("BEGIN;\nCOMMIT;", select=("MG341",), in_transaction=True) == [("MG341", 1)]


def test_lock_timeout_reported_once_per_file() -> None:
    sql = "ALTER TABLE a ADD COLUMN b text;\nALTER TABLE c ADD COLUMN d text;"
    assert codes(sql, select=("MG309",)) == [("MG309", 1)]


def test_set_config_lock_timeout_counts() -> None:
    sql = "SELECT set_config('lock_timeout', '2s', false);\nALTER TABLE a ADD COLUMN b text;"
    assert codes(sql, select=("MG309",)) == []


def test_tenant_exempt_tables_and_custom_names() -> None:
    sql = "CREATE TABLE plans (id bigint, inserted_on timestamptz);"
    assert codes(sql, select=("MG372",), tenant_exempt_tables=("plans",)) == []
    assert codes(sql, select=("MG372",), tenant_column="org_id") == [("MG372", 1)]
    assert codes(sql, select=("MG371",), timestamp_columns=("inserted_on",)) == []


def test_index_name_pattern_is_configurable() -> None:
    sql = "CREATE INDEX CONCURRENTLY ix_orders_user ON orders (user_id);"
    assert codes(sql, select=("MG376",)) == [("MG376", 1)]
    assert codes(sql, select=("MG376",), index_name_pattern=r"^ix_") == []


def test_singular_table_names_allowed_when_configured() -> None:
    sql = "CREATE TABLE user_account (id bigint);"
    assert codes(sql, select=("MG375",)) == [("MG375", 1)]
    assert codes(sql, select=("MG375",), require_plural_table_names=False) == []


def test_foreign_key_on_existing_table_needs_index_in_same_file() -> None:
    sql = ("ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
           "REFERENCES users (id) NOT VALID;\n")
    assert codes(sql, select=("MG374",)) == [("MG374", 1)]
    indexed = sql + "CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id, id);\n"
    assert codes(indexed, select=("MG374",)) == []
