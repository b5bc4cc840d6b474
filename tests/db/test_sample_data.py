"""Sample rows make the upgrade path meet data: NOT NULL without default and bad casts fail."""

from __future__ import annotations

from migration_guard.db.execute import Session, apply_sql
from migration_guard.db.sample_data import fill_sample_rows

SCHEMA = """
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE TABLE account (
    id serial PRIMARY KEY, code varchar(4) UNIQUE NOT NULL, mood mood NOT NULL,
    tags text[], score positive, seen timestamptz, born date, doc jsonb, key uuid UNIQUE,
    active bool, price numeric(6, 2) CHECK (price > 1), big bigint NOT NULL
);
CREATE TABLE payment (
    id bigint PRIMARY KEY, account_id int NOT NULL REFERENCES account (id),
    parent bigint REFERENCES payment (id), amount int CHECK (amount > 1000)
);
CREATE SCHEMA audit;
CREATE TABLE audit.entry (label text NOT NULL, at timestamp, UNIQUE (label, at));
CREATE TABLE impossible (n int NOT NULL CHECK (n < 0 AND n > 0));
"""


def test_every_table_gets_rows_respecting_constraints(session: Session) -> None:
    assert apply_sql(session, SCHEMA, path="m/0.sql") == []
    assert fill_sample_rows(session.conn) == {
        "audit.entry": 3, "public.account": 3, "public.impossible": 0, "public.payment": 3}
    orphans = session.conn.execute(
        "SELECT count(*) FROM payment p LEFT JOIN account a ON a.id = p.account_id "
        "WHERE a.id IS NULL").fetchone()
    assert orphans == (0,)


def test_not_null_without_default_fails_only_after_sample_data(session: Session) -> None:
    assert apply_sql(session, SCHEMA, path="m/0.sql") == []
    add = "ALTER TABLE payment ADD COLUMN note text NOT NULL;"
    assert apply_sql(session, f"BEGIN; {add} ROLLBACK;", path="m/1.sql") == []
    fill_sample_rows(session.conn)
    [finding] = apply_sql(session, add, path="m/1.sql")
    assert finding.message == ('migration failed to apply: column "note" of relation '
                               '"payment" contains null values [SQLSTATE 23502]')


def test_failing_cast_fails_on_sample_data(session: Session) -> None:
    assert apply_sql(session, SCHEMA, path="m/0.sql") == []
    fill_sample_rows(session.conn)
    [finding] = apply_sql(session, "ALTER TABLE account ALTER COLUMN code TYPE int "
                          "USING code::int;", path="m/2.sql")
    assert finding.message.startswith(
        "migration failed to apply: invalid input syntax for type integer:")


def test_empty_database_fills_nothing(session: Session) -> None:
    assert fill_sample_rows(session.conn) == {}
