"""One bad and one good SQL example per rule, shared by the rule tests and the docs check.

``bad`` must produce exactly one finding of the code, on ``line``; ``good`` none. Each
case runs with only its own rule selected (plus the mandatory ones).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from migration_guard.lint import LintOptions, lint_sql


class Case(NamedTuple):
    code: str
    bad: str
    line: int
    good: str


#: MG303's own advice, step by step: it must pass every rule enabled by default on
#: PostgreSQL 12 and later.
OWN_FIX = (
    "SET lock_timeout = '2s';\n"
    "SET statement_timeout = '5s';\n"
    "ALTER TABLE orders ADD CONSTRAINT orders_total_not_null CHECK (total IS NOT NULL) "
    "NOT VALID;\n"
    "SET statement_timeout = 0;\n"
    "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_not_null;\n"
    "SET statement_timeout = '5s';\n"
    "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;\n"
    "ALTER TABLE orders DROP CONSTRAINT orders_total_not_null;"
)
LONG = "order_events_" + "x" * 60

CASES: list[Case] = [
    Case("MG301", "CREATE INDEX orders_user_idx ON orders (user_id);", 1,
         "CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);"),
    Case("MG302", "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
         "REFERENCES users (id);", 1,
         "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
         "REFERENCES users (id) NOT VALID;\n"
         "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;"),
    Case("MG303", "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;", 1, OWN_FIX),
    Case("MG304", "ALTER TABLE orders ALTER COLUMN total TYPE bigint;", 1,
         "ALTER TABLE orders ADD COLUMN total_v2 bigint;"),
    Case("MG305", "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();", 1,
         "ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT now();"),
    Case("MG306", "ALTER TABLE orders ADD COLUMN id bigserial PRIMARY KEY;", 1,
         "ALTER TABLE orders ADD COLUMN id bigint;"),
    Case("MG307", "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);", 1,
         "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;"),
    Case("MG308", "SELECT 1;\nVACUUM FULL orders;", 2, "VACUUM orders;"),
    Case("MG309", "ALTER TABLE orders ADD COLUMN note text;", 1,
         "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;"),
    Case("MG320", "DROP TABLE orders;", 1, "CREATE TABLE tmp (id bigint);\nDROP TABLE tmp;"),
    Case("MG321", "ALTER TABLE orders DROP COLUMN note;", 1,
         "ALTER TABLE orders ADD COLUMN note text;"),
    Case("MG322", "DROP SCHEMA legacy CASCADE;", 1, "CREATE SCHEMA legacy;"),
    Case("MG323", "DROP DATABASE app;", 1, "CREATE DATABASE app;"),
    Case("MG324", "ALTER TABLE orders RENAME TO purchases;", 1,
         "CREATE TABLE tmp (id bigint);\nALTER TABLE tmp RENAME TO purchases;"),
    Case("MG325", "ALTER TABLE orders RENAME COLUMN total TO amount;", 1,
         "ALTER TABLE orders ADD COLUMN amount numeric;"),
    Case("MG310", "DROP INDEX orders_user_idx;", 1, "DROP INDEX CONCURRENTLY orders_user_idx;"),
    Case("MG311", "REINDEX INDEX orders_user_idx;", 1,
         "REINDEX INDEX CONCURRENTLY orders_user_idx;"),
    Case("MG312", "ALTER TABLE events DETACH PARTITION events_2020;", 1,
         "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;"),
    Case("MG313", "ALTER TABLE orders ADD COLUMN note text;", 1,
         "SET statement_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;"),
    Case("MG314", "ALTER DOMAIN quantity ADD CONSTRAINT quantity_positive CHECK (VALUE > 0);",
         1, "ALTER DOMAIN quantity ADD CONSTRAINT quantity_positive CHECK (VALUE > 0) "
         "NOT VALID;\nALTER DOMAIN quantity VALIDATE CONSTRAINT quantity_positive;"),
    Case("MG326", "TRUNCATE orders;", 1, "DELETE FROM orders WHERE id < 100;"),
    Case("MG327", "DELETE FROM orders;", 1, "DELETE FROM orders WHERE created_at < '2020-01-01';"),
    Case("MG328", "UPDATE orders SET status = 'new';", 1,
         "UPDATE orders SET status = 'new' WHERE status IS NULL;"),
    Case("MG329", "ALTER TABLE orders ALTER COLUMN total DROP NOT NULL;", 1,
         "ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0;"),
    Case("MG330", "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;", 1,
         "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';"),
    Case("MG331", "ALTER TABLE orders ADD COLUMN region text NOT NULL;", 1,
         "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';"),
    Case("MG332", "TRUNCATE orders CASCADE;", 1, "TRUNCATE order_cache;"),
    Case("MG340", "BEGIN;\nCREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);\n"
         "COMMIT;", 2, "CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);"),
    Case("MG341", "BEGIN;\nSELECT 1;\nBEGIN;\nCOMMIT;", 3, "BEGIN;\nCOMMIT;\nBEGIN;\nCOMMIT;"),
    Case("MG342", "SELECT 1;\nBEGIN;\nSELECT 1;", 2, "BEGIN;\nSELECT 1;\nCOMMIT;"),
    Case("MG343", "ALTER TABLE orders ADD COLUMN note text;\nCOMMIT;", 2,
         "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;"),
    Case("MG350", "CREATE TABLE users (id bigint, email varchar(255));", 1,
         "CREATE TABLE users (id bigint, email text);"),
    Case("MG351", "CREATE TABLE users (id integer PRIMARY KEY);", 1,
         "CREATE TABLE users (id bigint PRIMARY KEY);"),
    Case("MG352", "CREATE TABLE users (id bigint, seen_at timestamp);", 1,
         "CREATE TABLE users (id bigint, seen_at timestamptz);"),
    Case("MG353", "CREATE TABLE users (id bigserial);", 1,
         "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY);"),
    Case("MG354", "CREATE TABLE countries (code char(2));", 1,
         "CREATE TABLE countries (code text CHECK (char_length(code) = 2));"),
    Case("MG355", "CREATE TABLE orders (id bigint, quantity integer);", 1,
         "CREATE TABLE orders (id bigint, quantity bigint);"),
    Case("MG360", "CREATE TABLE users (id bigint);", 1,
         "CREATE TABLE IF NOT EXISTS users (id bigint);"),
    Case("MG361", f"CREATE TABLE {LONG} (id bigint);", 1,
         "CREATE TABLE order_events (id bigint);"),
    Case("MG362", "UPDATE orders SET status = 'new', status = 'paid' WHERE id = 1;", 1,
         "UPDATE orders SET status = 'paid' WHERE id = 1;"),
    Case("MG363", "ALTER TABLE orders ENABLE ROW LEVEL SECURITY;", 1,
         "ALTER TABLE orders ENABLE ROW LEVEL SECURITY;\n"
         "CREATE POLICY orders_owner ON orders USING (owner = current_user);"),
    Case("MG364", "ALTER TYPE order_status ADD VALUE 'refunded';", 1,
         "ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'paid';"),
    Case("MG370", "CREATE TABLE users (email text);", 1,
         "CREATE TABLE users (id bigint PRIMARY KEY, email text);"),
    Case("MG371", "CREATE TABLE users (id bigint);", 1,
         "CREATE TABLE users (id bigint, created_at timestamptz, updated_at timestamptz);"),
    Case("MG372", "CREATE TABLE users (id bigint);", 1,
         "CREATE TABLE users (id bigint, tenant_id bigint);"),
    Case("MG373", "CREATE TABLE users (id bigint);", 1,
         "CREATE TABLE users (id bigint);\nALTER TABLE users ENABLE ROW LEVEL SECURITY;"),
    Case("MG374", "CREATE TABLE orders (id bigint, user_id bigint REFERENCES users (id));", 1,
         "CREATE TABLE orders (id bigint, user_id bigint REFERENCES users (id));\n"
         "CREATE INDEX orders_user_id_idx ON orders (user_id);"),
    Case("MG375", "CREATE TABLE \"UserAccount\" (id bigint);", 1,
         "CREATE TABLE user_accounts (id bigint);"),
    Case("MG376", "CREATE INDEX CONCURRENTLY idx1 ON orders (user_id);", 1,
         "CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);"),
    Case("MG377", "CREATE TABLE users (id bigint);", 1,
         "CREATE TABLE users (id bigint);\nCOMMENT ON TABLE users IS 'people who log in';"),
    Case("MG378", "CREATE TABLE orders (id bigint);", 1,
         "CREATE TABLE public.orders (id bigint);"),
    Case("MG379", "CREATE TABLE users (id bigint, \"firstName\" text);", 1,
         "CREATE TABLE users (id bigint, first_name text);"),
    Case("MG380", "ALTER TABLE orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) "
         "REFERENCES users (id) NOT VALID;", 1,
         "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) "
         "REFERENCES users (id) NOT VALID;"),
    Case("MG381", "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) "
         "REFERENCES users (id) NOT VALID;", 1,
         "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) "
         "REFERENCES users (id) ON DELETE CASCADE NOT VALID;"),
    Case("MG390", "SELECT 1;\n\\set ON_ERROR_STOP on\nSELECT 2;", 2, "SELECT 1;\nSELECT 2;"),
]


def codes(sql: str, **options: Any) -> list[tuple[str, int | None]]:
    """Lint ``sql`` as ``m.sql``; the (code, line) of each finding, in report order."""
    result = lint_sql(sql, "m.sql", options=LintOptions(**options))
    return [(finding.code, finding.line) for finding in result.findings]
