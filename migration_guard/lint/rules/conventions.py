"""Opt-in team conventions for new tables (primary key, timestamps, tenant column, RLS,
indexed foreign keys, naming, comments), foreign keys (name, ON DELETE), schema-qualified
table names, and idempotent DDL.

Whole-table conventions are judged at the end of the file, so a later ``ALTER TABLE ...
ENABLE ROW LEVEL SECURITY``, ``COMMENT ON TABLE`` or ``CREATE INDEX`` in the same file
satisfies them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from migration_guard.lint.context import Context, NewTable, Node, names, table_name

_SNAKE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
_ON_DELETE = re.compile(rb"\bON\s+DELETE\b", re.IGNORECASE)


def _not_idempotent(what: str, fix: str, ctx: Context) -> None:
    ctx.report(
        "MG360",
        f"{what} fails if the migration is re-run after a partial failure (a "
        "non-transactional step that died halfway), leaving the deploy stuck",
        fix)


def create_table(node: Node, ctx: Context) -> None:
    relation = node.get("relation") or {}
    table = table_name(relation)
    if not node.get("if_not_exists"):
        _not_idempotent(f"CREATE TABLE \"{table}\" without IF NOT EXISTS",
                        "write CREATE TABLE IF NOT EXISTS", ctx)
    new = NewTable(table, ctx.offset)
    _schema_named(relation, ctx)
    for element in node.get("tableElts") or []:
        column = element.get("ColumnDef")
        constraint = element.get("Constraint")
        if column:
            new.columns.append(str(column.get("colname")))
            _column_name(table, str(column.get("colname")), ctx)
            for item in column.get("constraints") or []:
                inline = item.get("Constraint", {})
                if inline.get("contype") == "CONSTR_PRIMARY":
                    new.has_primary_key = True
                    ctx.indexes.setdefault(table, []).append((str(column.get("colname")),))
                elif inline.get("contype") == "CONSTR_UNIQUE":
                    ctx.indexes.setdefault(table, []).append((str(column.get("colname")),))
                elif inline.get("contype") == "CONSTR_FOREIGN":
                    _inline_foreign_key(table, str(column.get("colname")), inline, ctx)
        elif constraint:
            _table_constraint(table, constraint, ctx)
            if constraint.get("contype") == "CONSTR_PRIMARY":
                new.has_primary_key = True
    ctx.new_tables[table] = new
    if ctx.on("MG375") and not _good_table_name(relation.get("relname", ""), ctx):
        plural = " plural" if ctx.options.require_plural_table_names else ""
        ctx.report(
            "MG375",
            f"table name \"{relation.get('relname')}\" is not{plural} snake_case: it has to "
            "be quoted in every query, and naming drifts from the rest of the schema",
            f"rename it to{plural} snake_case, e.g. "
            f"\"{_suggest(relation.get('relname', ''), ctx)}\"")


def _good_table_name(name: str, ctx: Context) -> bool:
    if not re.match(_SNAKE, name):
        return False
    return not ctx.options.require_plural_table_names or name.endswith("s")


def _suggest(name: str, ctx: Context) -> str:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    snake = re.sub(r"[^a-z0-9]+", "_", snake).strip("_") or "items"
    if ctx.options.require_plural_table_names and not snake.endswith("s"):
        snake += "s"
    return snake


def _table_constraint(table: str, constraint: Node, ctx: Context) -> None:
    contype = constraint.get("contype")
    if contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE") and constraint.get("keys"):
        ctx.indexes.setdefault(table, []).append(names(constraint.get("keys")))
    elif contype == "CONSTR_FOREIGN":
        _foreign_key(table, names(constraint.get("fk_attrs")), constraint, ctx)


def _inline_foreign_key(table: str, column: str, constraint: Node, ctx: Context) -> None:
    _foreign_key(table, (column,), constraint, ctx)


def _foreign_key(table: str, columns: tuple[str, ...], constraint: Node, ctx: Context) -> None:
    ctx.foreign_keys.append((table, columns, ctx.offset))
    bare = table.rpartition(".")[2]
    if ctx.on("MG380"):
        # PostgreSQL names an unnamed foreign key <table>_<columns>_fkey.
        actual = str(constraint.get("conname") or f"{bare}_{'_'.join(columns)}_fkey")
        expected = ctx.options.foreign_key_name_pattern.format(
            table=bare, columns="_".join(columns))
        if actual != expected:
            ctx.report(
                "MG380",
                f"foreign key \"{actual}\" on \"{table}\" ({', '.join(columns)}) is not "
                f"named \"{expected}\" (pattern {ctx.options.foreign_key_name_pattern!r}): "
                "constraints named off-pattern are hard to find, and to drop by name later",
                f"name it: CONSTRAINT {expected} FOREIGN KEY ...")
    if ctx.on("MG381") and constraint.get("fk_del_action", "a") == "a" \
            and not _ON_DELETE.search(ctx.statement_bytes()):
        ctx.report(
            "MG381",
            f"foreign key ({', '.join(columns)}) on \"{table}\" says nothing about ON DELETE: "
            "deleting a referenced row then fails while rows point at it, a choice nobody "
            "made explicitly",
            "write the intended action: ON DELETE CASCADE, SET NULL, RESTRICT or NO ACTION")


def _schema_named(relation: Node, ctx: Context) -> None:
    if ctx.on("MG378") and not relation.get("schemaname") \
            and relation.get("relpersistence") != "t":
        ctx.report(
            "MG378",
            f"table \"{relation.get('relname')}\" is named without its schema: it resolves "
            "through search_path, which differs between roles, tools and connection poolers",
            f"qualify it: public.{relation.get('relname')} (or the schema it belongs to)")


def _column_name(table: str, column: str, ctx: Context) -> None:
    pattern = ctx.options.column_name_pattern
    if ctx.on("MG379") and not re.search(pattern, column):
        ctx.report(
            "MG379",
            f"column \"{table}\".\"{column}\" does not match the project's pattern "
            f"{pattern!r}: off-pattern names need quoting in every query and drift from "
            "the rest of the schema",
            "rename the column to match the pattern (see the column_name_pattern setting)")


def alter_table(node: Node, ctx: Context) -> None:
    table = table_name(node.get("relation") or {})
    new = ctx.new_tables.get(table)
    for item in node.get("cmds") or []:
        cmd = item.get("AlterTableCmd", {})
        subtype = cmd.get("subtype")
        definition = cmd.get("def") or {}
        if subtype in ("AT_EnableRowSecurity", "AT_ForceRowSecurity") and new:
            new.rls = True
        elif subtype == "AT_AddConstraint" and "Constraint" in definition:
            _table_constraint(table, definition["Constraint"], ctx)
            if new and definition["Constraint"].get("contype") == "CONSTR_PRIMARY":
                new.has_primary_key = True
        elif subtype == "AT_AddColumn" and "ColumnDef" in definition:
            _added_column(table, new, definition["ColumnDef"], ctx)
        if subtype == "AT_AddColumn" and not cmd.get("missing_ok"):
            _not_idempotent(f"ADD COLUMN on \"{table}\" without IF NOT EXISTS",
                            "write ADD COLUMN IF NOT EXISTS", ctx)
        elif subtype == "AT_DropColumn" and not cmd.get("missing_ok"):
            _not_idempotent(f"DROP COLUMN on \"{table}\" without IF EXISTS",
                            "write DROP COLUMN IF EXISTS", ctx)


def _added_column(table: str, new: NewTable | None, column: Node, ctx: Context) -> None:
    name = str(column.get("colname"))
    if new:
        new.columns.append(name)
    _column_name(table, name, ctx)
    for item in column.get("constraints") or []:
        inline = item.get("Constraint", {})
        if inline.get("contype") == "CONSTR_FOREIGN":
            _inline_foreign_key(table, name, inline, ctx)


def alter_table_schema(node: Node, ctx: Context) -> None:
    if node.get("objtype", "OBJECT_TABLE") == "OBJECT_TABLE":
        _schema_named(node.get("relation") or {}, ctx)


def relation_schema(node: Node, ctx: Context) -> None:
    """CREATE INDEX ... ON t, TRUNCATE t, DROP TABLE t: the table's schema is named."""
    for relation in [node.get("relation")] + [r.get("RangeVar") for r in
                                              node.get("relations") or []]:
        if relation:
            _schema_named(relation, ctx)
    if node.get("removeType") == "OBJECT_TABLE":
        for obj in node.get("objects") or []:
            parts = names(obj.get("List", {}).get("items"))
            if len(parts) == 1:
                _schema_named({"relname": parts[0]}, ctx)


def rename_column(node: Node, ctx: Context) -> None:
    if node.get("renameType") == "OBJECT_COLUMN" and node.get("newname"):
        _column_name(table_name(node.get("relation") or {}), str(node["newname"]), ctx)


def index(node: Node, ctx: Context) -> None:
    table = table_name(node.get("relation") or {})
    columns: list[str] = []
    for param in node.get("indexParams") or []:
        name = param.get("IndexElem", {}).get("name")
        if not name:
            break  # an expression: only the plain leading columns can serve a foreign key
        columns.append(str(name))
    if columns:
        ctx.indexes.setdefault(table, []).append(tuple(columns))
    name = node.get("idxname")
    if not node.get("if_not_exists"):
        _not_idempotent(f"CREATE INDEX{' ' + name if name else ''} without IF NOT EXISTS",
                        "write CREATE INDEX IF NOT EXISTS (with an explicit name)", ctx)
    pattern = ctx.options.index_name_pattern
    if ctx.on("MG376") and name and not re.search(pattern, name):
        ctx.report(
            "MG376",
            f"index name \"{name}\" does not match the project's pattern {pattern!r}: "
            "inconsistent names make indexes hard to find and to drop by name later",
            "rename the index to match the pattern (see the index_name_pattern setting)")


def drop(node: Node, ctx: Context) -> None:
    if not node.get("missing_ok"):
        kind = str(node.get("removeType", "OBJECT_")).removeprefix("OBJECT_").replace("_", " ")
        _not_idempotent(f"DROP {kind} without IF EXISTS", f"write DROP {kind} IF EXISTS", ctx)


def comment(node: Node, ctx: Context) -> None:
    if node.get("objtype") == "OBJECT_TABLE":
        table = ".".join(names(node.get("object", {}).get("List", {}).get("items")))
        new = ctx.new_tables.get(table.removeprefix("public."))
        if new:
            new.comment = True


def finish(ctx: Context) -> None:
    for new in ctx.new_tables.values():
        _finish_table(new, ctx)
    for table, columns, offset in ctx.foreign_keys:
        covered = any(index[: len(columns)] == columns for index in ctx.indexes.get(table, []))
        if columns and not covered:
            ctx.report(
                "MG374",
                f"foreign key ({', '.join(columns)}) on \"{table}\" has no index: every "
                "delete or key update in the referenced table scans all of "
                f"\"{table}\", and joins on it are slow",
                f"CREATE INDEX on \"{table}\" ({', '.join(columns)}) in the same migration "
                "(CONCURRENTLY if the table exists)", offset)


def _finish_table(new: NewTable, ctx: Context) -> None:
    quoted = f"\"{new.name}\""
    if not new.has_primary_key:
        ctx.report(
            "MG370",
            f"new table {quoted} has no primary key: rows cannot be addressed one by one, "
            "logical replication cannot UPDATE or DELETE them, and duplicates creep in",
            "add a primary key, e.g. id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            new.offset)
    missing = [c for c in ctx.options.timestamp_columns if c not in new.columns]
    if missing:
        ctx.report(
            "MG371",
            f"new table {quoted} has no {', '.join(missing)} column: nobody can tell when "
            "its rows were created or changed when debugging or auditing",
            f"add {', '.join(f'{c} timestamptz NOT NULL DEFAULT now()' for c in missing)}",
            new.offset)
    tenant = ctx.options.tenant_column
    exempt = {t.removeprefix("public.") for t in ctx.options.tenant_exempt_tables}
    if tenant not in new.columns and new.name not in exempt:
        ctx.report(
            "MG372",
            f"new table {quoted} has no {tenant} column: its rows belong to no tenant, so "
            "tenant isolation (RLS policies, scoped queries) cannot apply to it",
            f"add {tenant} with a foreign key to the tenants table, or list the table in "
            "tenant_exempt_tables", new.offset)
    if not new.rls:
        ctx.report(
            "MG373",
            f"new table {quoted} does not enable row level security: any role with table "
            "privileges reads every tenant's rows",
            f"add ALTER TABLE {new.name} ENABLE ROW LEVEL SECURITY; and its policies in the "
            "same migration", new.offset)
    if not new.comment:
        ctx.report(
            "MG377",
            f"new table {quoted} has no COMMENT ON TABLE: its purpose is undocumented in "
            "the schema that other teams and tools read",
            f"add COMMENT ON TABLE {new.name} IS '...'; in the same migration", new.offset)


#: Every code this family reports: with none of them enabled, the engine skips it.
CODES = frozenset({
    "MG360", "MG370", "MG371", "MG372", "MG373", "MG374", "MG375", "MG376", "MG377",
    "MG378", "MG379", "MG380", "MG381",
})
HANDLERS: dict[str, list[Callable[[Node, Context], None]]] = {
    "CreateStmt": [create_table],
    "AlterTableStmt": [alter_table, alter_table_schema],
    "IndexStmt": [index, relation_schema],
    "DropStmt": [drop, relation_schema],
    "TruncateStmt": [relation_schema],
    "RenameStmt": [rename_column],
    "CommentStmt": [comment],
}
FINISHERS = [finish]
