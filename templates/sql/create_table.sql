-- templates/sql/create_table.sql: a new table, for your migrations directory (`migration-guard new NAME --table TABLE` writes it there with your table's name in place of example_items).
-- Safe to re-run (IF NOT EXISTS), and it satisfies the opt-in conventions of the lint
-- (MG360, MG370-MG377). Multi-tenant schemas add a tenant_id column (MG372) and an index on it.

CREATE TABLE IF NOT EXISTS example_items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Without policies only the table owner sees rows: add CREATE POLICY statements for the
-- roles that read and write it.
ALTER TABLE example_items ENABLE ROW LEVEL SECURITY;

COMMENT ON TABLE example_items IS 'What one row of example_items is, and who writes it.';
COMMENT ON COLUMN example_items.name IS 'A human-readable name.';
COMMENT ON COLUMN example_items.created_at IS 'When the row was inserted.';
COMMENT ON COLUMN example_items.updated_at IS 'When the row was last changed (set by the application or a trigger).';
