"""Column types that cost a rewrite or an outage later: varchar(n), char(n), int keys (and,
opt-in, any int), timestamp, serial. Checked on CREATE TABLE and ADD COLUMN (text types
also on ALTER COLUMN TYPE), new tables included."""

from __future__ import annotations

from collections.abc import Callable

from migration_guard.lint.context import Context, Node, names, table_name, type_name

_SERIAL = {"serial", "smallserial", "bigserial", "serial2", "serial4", "serial8"}
_SMALL_INTS = {"int4", "int2", "serial", "serial4", "smallserial", "serial2", "int", "integer",
               "smallint"}


def _key_columns(elements: list[Node]) -> set[str]:
    keys: set[str] = set()
    for element in elements:
        constraint = element.get("Constraint")
        if constraint and constraint.get("contype") == "CONSTR_PRIMARY":
            keys.update(names(constraint.get("keys")))
        elif constraint and constraint.get("contype") == "CONSTR_FOREIGN":
            keys.update(names(constraint.get("fk_attrs")))
    return keys


def _text_types(where: str, type_node: Node, ctx: Context) -> None:
    kind = type_name(type_node)
    if kind == "varchar" and type_node.get("typmods"):
        ctx.report(
            "MG350",
            f"column {where} is varchar(n): the length limit rejects longer values at "
            "insert time, and raising it past what was planned is a migration of its own",
            "use text, with a CHECK (char_length(col) <= n) constraint if you need a limit")
    elif kind == "bpchar":
        ctx.report(
            "MG354",
            f"column {where} is char(n): values are padded with spaces to the length, so "
            "comparisons, lengths and client code see text nobody wrote, and longer values "
            "are rejected",
            "use text (with a CHECK constraint on the length if the value is fixed-size)")


def _column(table: str, column: Node, keys: set[str], ctx: Context) -> None:
    type_node = column.get("typeName") or {}
    kind = type_name(type_node)
    name = column.get("colname", "?")
    where = f"\"{table}\".\"{name}\""
    _text_types(where, type_node, ctx)
    if kind == "timestamp":
        ctx.report(
            "MG352",
            f"column {where} is timestamp without time zone: values carry no zone, so "
            "clients in different zones read and write different instants",
            "use timestamptz (timestamp with time zone)")
    if kind in _SERIAL:
        ctx.report(
            "MG353",
            f"column {where} is {kind}: its sequence is a separate object with its own "
            "owner and grants, and a manual insert of an id desynchronizes it",
            "use bigint GENERATED ALWAYS AS IDENTITY")
    contypes = {c.get("Constraint", {}).get("contype") for c in column.get("constraints") or []}
    is_key = name in keys or bool({"CONSTR_PRIMARY", "CONSTR_FOREIGN"} & contypes)
    if is_key and kind in _SMALL_INTS:
        ctx.report(
            "MG351",
            f"key column {where} is {kind}: it runs out at 2,147,483,647 (int) or 32,767 "
            "(smallint) values, and widening it later rewrites the table and every table "
            "that references it",
            "use bigint for primary and foreign key columns")
    elif kind in _SMALL_INTS:
        ctx.report(
            "MG355",
            f"column {where} is {kind}: counters and amounts outgrow 2,147,483,647 (int) or "
            "32,767 (smallint), and widening the column later rewrites the table",
            "use bigint (the 4 bytes saved per row rarely matter)")


def create_table(node: Node, ctx: Context) -> None:
    table = table_name(node.get("relation") or {})
    elements = node.get("tableElts") or []
    keys = _key_columns(elements)
    for element in elements:
        if "ColumnDef" in element:
            _column(table, element["ColumnDef"], keys, ctx)


def alter_table(node: Node, ctx: Context) -> None:
    table = table_name(node.get("relation") or {})
    for item in node.get("cmds") or []:
        cmd = item.get("AlterTableCmd", {})
        definition = cmd.get("def") or {}
        if cmd.get("subtype") == "AT_AddColumn" and "ColumnDef" in definition:
            _column(table, definition["ColumnDef"], set(), ctx)
        elif cmd.get("subtype") == "AT_AlterColumnType" and "ColumnDef" in definition:
            column = definition["ColumnDef"]
            _text_types(f"\"{table}\".\"{cmd.get('name')}\"", column.get("typeName") or {},
                        ctx)


#: Every code this family reports: with none of them enabled, the engine skips it.
CODES = frozenset({
    "MG350", "MG351", "MG352", "MG353", "MG354", "MG355",
})
HANDLERS: dict[str, list[Callable[[Node, Context], None]]] = {
    "CreateStmt": [create_table],
    "AlterTableStmt": [alter_table],
}
