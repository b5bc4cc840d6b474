"""Applying SQL files to a real throwaway database: transaction modes, locations, timeouts."""

from __future__ import annotations

import psycopg

from migration_guard import frameworks
from migration_guard.db.base import Database
from migration_guard.db.execute import (
    FAILED,
    META_COMMAND,
    TIMED_OUT,
    Chunk,
    Failure,
    Session,
    apply_chunks,
    apply_sql,
    runs_in_transaction,
    split_on,
    split_statements,
)
from migration_guard.frameworks import Section

DBMATE = frameworks.get("dbmate")

GENERIC_HINT = "fix the statement so that it applies on top of the migrations before it"


def tables(session: Session) -> list[str]:
    rows = session.conn.execute(
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = "
        "'public'::regnamespace ORDER BY relname").fetchall()
    return [row[0] for row in rows]


def test_clean_file_applies_and_returns_no_findings(session: Session) -> None:
    assert apply_sql(session, "CREATE TABLE a (id int);\nCREATE TABLE b (id int);",
                     path="m/1.sql") == []
    assert tables(session) == ["a", "b"]


def test_failing_statement_is_reported_at_its_line_with_sqlstate(session: Session) -> None:
    sql = "CREATE TABLE a (id int);\n-- café\n\nINSERT INTO a VALUES (1);\nSELECT 1/0;\n"
    assert apply_sql(session, sql, path="m/2.sql", start_line=10) == [Failure(
        FAILED, "m/2.sql", 14, "migration failed to apply: division by zero [SQLSTATE 22012]",
        GENERIC_HINT)]


def test_failing_file_in_a_transaction_leaves_nothing_behind(session: Session) -> None:
    findings = apply_sql(session, "CREATE TABLE a (id int);\nCREATE TABLE a (id int);",
                         path="m/3.sql")
    assert [(f.kind, f.line, f.message) for f in findings] == [(
        FAILED, 2, 'migration failed to apply: relation "a" already exists [SQLSTATE 42P07]')]
    assert tables(session) == []


def test_error_position_inside_a_multiline_statement_gives_its_line(session: Session) -> None:
    sql = "CREATE TABLE a (id int);\nSELECT id,\n       nope\nFROM a;"
    findings = apply_sql(session, sql, path="m/4.sql")
    assert [(f.line, f.message) for f in findings] == [
        (3, 'migration failed to apply: column "nope" does not exist [SQLSTATE 42703]')]


def test_syntax_error_is_reported_at_its_line(session: Session) -> None:
    findings = apply_sql(session, "CREATE TABLE a (id int);\n\nCREAT TABLE b (id int);",
                         path="m/5.sql")
    assert [(f.kind, f.line, f.message) for f in findings] == [(
        FAILED, 3, 'migration failed to apply: syntax error at or near "CREAT" '
        "[SQLSTATE 42601]")]


def test_server_detail_and_hint_are_passed_on(session: Session) -> None:
    sql = ("CREATE TABLE p (id int PRIMARY KEY);\n"
           "CREATE TABLE c (p int REFERENCES p);\n"
           "INSERT INTO c VALUES (7);")
    [finding] = apply_sql(session, sql, path="m/6.sql")
    assert finding.line == 3
    assert finding.message == (
        'migration failed to apply: insert or update on table "c" violates foreign key '
        'constraint "c_p_fkey" [SQLSTATE 23503]; detail: Key (p)=(7) is not present in '
        'table "p".')


def test_concurrently_file_runs_in_autocommit(session: Session) -> None:
    sql = ("CREATE TABLE a (id int);\n"
           "CREATE INDEX CONCURRENTLY a_id ON a (id);\n"
           "SELECT 1/0;")
    findings = apply_sql(session, sql, path="m/7.sql")
    assert [(f.kind, f.line) for f in findings] == [(FAILED, 3)]
    # autocommit: the statements before the failure stay applied
    valid = session.conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'a_id'::regclass").fetchone()
    assert valid == (True,)


def test_concurrently_forced_into_a_transaction_fails(session: Session) -> None:
    sql = "CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id ON a (id);"
    [finding] = apply_sql(session, sql, path="m/8.sql", transactional=True)
    assert (finding.line, finding.message) == (2, (
        "migration failed to apply: CREATE INDEX CONCURRENTLY cannot run inside a "
        "transaction block [SQLSTATE 25001]"))


def test_statements_refusing_a_transaction_are_detected() -> None:
    def transactional(sql: str, version: int = 180000) -> bool:
        statements, _ = split_statements(sql)
        return runs_in_transaction(sql, statements, server_version=version)

    assert not transactional("DROP INDEX CONCURRENTLY i;")
    assert not transactional("REINDEX INDEX CONCURRENTLY i;")
    assert not transactional("VACUUM t;")
    assert not transactional("CREATE DATABASE x;")
    assert not transactional("ALTER SYSTEM SET work_mem = '1MB';")
    assert not transactional("BEGIN; CREATE TABLE t (); COMMIT;")
    assert not transactional("ALTER TYPE e ADD VALUE 'x';", 110000)
    assert transactional("ALTER TYPE e ADD VALUE 'x';", 120000)
    assert transactional("ANALYZE t; CREATE INDEX i ON t (a);")
    assert transactional("CREATE TABLE concurrently_named (value int);")


def test_lock_timeout_is_a_finding_naming_the_statement(
    session: Session, database: Database
) -> None:
    apply_sql(session, "CREATE TABLE a (id int);", path="m/0.sql")
    with psycopg.connect(database.conninfo) as holder:
        holder.execute("LOCK TABLE a IN ACCESS EXCLUSIVE MODE")
        findings = apply_sql(session, "ALTER TABLE a ADD COLUMN b int;", path="m/9.sql",
                             lock_timeout_s=0.2)
    assert findings == [Failure(
        TIMED_OUT, "m/9.sql", 1,
        "statement hit lock_timeout (0.2 s): ALTER TABLE a ADD COLUMN b int",
        "make the statement finish within 0.2 s, or raise the lock_timeout setting for this "
        "migration")]


def test_statement_timeout_is_a_finding(session: Session) -> None:
    [finding] = apply_sql(session, "SELECT 1;\nSELECT pg_sleep(5);", path="m/10.sql",
                          statement_timeout_s=0.1)
    assert (finding.kind, finding.line, finding.message) == (
        TIMED_OUT, 2, "statement hit statement_timeout (0.1 s): SELECT pg_sleep(5)")


def test_psql_meta_command_is_a_finding_not_a_crash(session: Session) -> None:
    assert apply_sql(session, "SELECT 1;\n\\set ON_ERROR_STOP on\n", path="m/11.sql") == [
        Failure(META_COMMAND, "m/11.sql", 2,
                "psql meta-command \\set cannot be applied: only psql understands it",
                "replace it with plain SQL, or run this file with psql and check it another way")]


def test_drizzle_chunks_keep_their_file_lines(session: Session) -> None:
    text = ("CREATE TABLE a (id int);\n--> statement-breakpoint\n"
            "CREATE TABLE b (id int);\n--> statement-breakpoint\nSELECT 1/0;\n")
    chunks = split_on(text, frameworks.get("drizzle").statement_breakpoint)
    assert [c.start_line for c in chunks] == [1, 2, 4]
    [finding] = apply_chunks(session, chunks, path="drizzle/0001.sql")
    assert finding.line == 5


def test_dbmate_up_section_and_transaction_marker() -> None:
    text = ("-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n"
            "-- migrate:down\nDROP INDEX i;\n")
    assert DBMATE.up_section(text) == Section(
        "CREATE INDEX CONCURRENTLY i ON t (a);\n\n", 2, False)
    assert DBMATE.up_section("-- migrate:up\nSELECT 1;\n") == Section("SELECT 1;\n", 2, None)
    assert DBMATE.up_section("SELECT 1;") is None


def test_dbmate_up_section_line_numbers_reach_findings(session: Session) -> None:
    up = DBMATE.up_section("-- comment\n-- migrate:up\nCREATE TABLE a ();\nSELECT 1/0;\n"
                           "-- migrate:down\nDROP TABLE a;\n")
    assert up is not None
    [finding] = apply_sql(session, up.text, path="db/1.sql", start_line=up.start_line,
                          transactional=up.transactional)
    assert finding.line == 4


def test_chunk_with_meta_command_reports_file_line(session: Session) -> None:
    [finding] = apply_chunks(session, [Chunk("SELECT 1;\n", 1), Chunk("\n\\i other.sql\n", 3)],
                             path="x.sql")
    assert (finding.kind, finding.line) == (META_COMMAND, 4)


def test_empty_file_applies(session: Session) -> None:
    assert apply_sql(session, "-- nothing here\n", path="m/e.sql") == []
