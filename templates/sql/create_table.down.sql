-- templates/sql/create_table.down.sql: the down step of create_table.sql (golang-migrate .down.sql, dbmate's migrate:down section).
DROP TABLE IF EXISTS example_items;
