"""Destructive and backward-incompatible changes: what the running application (the
version deployed before this migration) still reads or writes."""

from __future__ import annotations

from collections.abc import Callable

from migration_guard.lint.context import Context, Node, names, table_name, type_name

_EXPAND_CONTRACT = ("ship code that no longer uses it first, then remove it in a later "
                    "migration (expand/contract); if nothing uses it, ignore this finding "
                    "with that reason")


def drop(node: Node, ctx: Context) -> None:
    kind = node.get("removeType")
    for obj in node.get("objects") or []:
        if kind == "OBJECT_TABLE":
            table = ".".join(names(obj.get("List", {}).get("items"))).removeprefix("public.")
            if not ctx.is_new(table):
                ctx.report(
                    "MG320",
                    f"DROP TABLE \"{table}\" deletes its data for good, and the application "
                    "version still running during the deploy fails on every query of it",
                    _EXPAND_CONTRACT)
        elif kind == "OBJECT_SCHEMA":
            schema = obj.get("String", {}).get("sval", "?")
            cascade = (" and, with CASCADE, everything in it" if
                       node.get("behavior") == "DROP_CASCADE" else "")
            ctx.report(
                "MG322",
                f"DROP SCHEMA \"{schema}\" removes the schema{cascade}: data is lost for good "
                "and code still using it fails",
                _EXPAND_CONTRACT)


def drop_database(node: Node, ctx: Context) -> None:
    ctx.report(
        "MG323",
        f"DROP DATABASE \"{node.get('dbname')}\" deletes a whole database: every "
        "application connected to it loses all its data",
        "never drop databases from a migration; do it by hand, with a backup, if at all")


def rename(node: Node, ctx: Context) -> None:
    kind = node.get("renameType")
    table = table_name(node.get("relation") or {})
    if not table or ctx.is_new(table):
        return
    if kind == "OBJECT_TABLE":
        ctx.report(
            "MG324",
            f"renaming table \"{table}\" to \"{node.get('newname')}\" breaks every query of "
            f"\"{table}\" by the application version still running during the deploy",
            "create the new table (or a view named the old way) and migrate code first; "
            "rename only once nothing uses the old name")
    elif kind == "OBJECT_COLUMN":
        ctx.report(
            "MG325",
            f"renaming column \"{table}\".\"{node.get('subname')}\" to "
            f"\"{node.get('newname')}\" breaks every query of the old name by the "
            "application version still running during the deploy",
            "add the new column, write to both, backfill, move reads over, then drop the "
            "old column in a later migration")


def truncate(node: Node, ctx: Context) -> None:
    tables = [table_name(r.get("RangeVar", {})) for r in node.get("relations") or []]
    old = [t for t in tables if not ctx.is_new(t)]
    if not old:
        return
    if node.get("behavior") == "DROP_CASCADE":
        ctx.report(
            "MG332",
            f"TRUNCATE {', '.join(old)} CASCADE also empties every table with a foreign key "
            "to it, and every table referencing those, tables this statement never names: "
            "their data is gone for good",
            "truncate only the tables you mean, listed by name without CASCADE (it then "
            "fails instead of reaching further), or delete with a bounded DELETE ... WHERE")
        return
    ctx.report(
        "MG326",
        f"TRUNCATE {', '.join(old)} deletes every row for good; it also takes an "
        "ACCESS EXCLUSIVE lock",
        "delete the rows you mean to delete with a bounded DELETE ... WHERE, or move the "
        "data out first")


def _unbounded(code: str, verb: str, node: Node, ctx: Context) -> None:
    table = table_name(node.get("relation") or {})
    if node.get("whereClause") or ctx.is_new(table):
        return
    effect = "deletes every row of" if verb == "DELETE" else "overwrites every row of"
    ctx.report(
        code,
        f"{verb} without WHERE {effect} \"{table}\" in one transaction, locking all of them "
        "until it commits",
        f"add a WHERE clause; for a real backfill, {verb} in batches by primary key range")


def delete(node: Node, ctx: Context) -> None:
    _unbounded("MG327", "DELETE", node, ctx)


def update(node: Node, ctx: Context) -> None:
    _unbounded("MG328", "UPDATE", node, ctx)


def alter_table(node: Node, ctx: Context) -> None:
    table = table_name(node.get("relation") or {})
    if node.get("objtype", "OBJECT_TABLE") != "OBJECT_TABLE" or ctx.is_new(table):
        return
    for item in node.get("cmds") or []:
        cmd = item.get("AlterTableCmd", {})
        subtype = cmd.get("subtype")
        column = f"\"{table}\".\"{cmd.get('name')}\""
        if subtype == "AT_DropColumn":
            ctx.report(
                "MG321",
                f"dropping column {column} deletes its data for good, and the application "
                "version still running during the deploy fails on every query naming it "
                "(including SELECT * mapped by ORMs)",
                _EXPAND_CONTRACT)
        elif subtype == "AT_DropNotNull":
            ctx.report(
                "MG329",
                f"DROP NOT NULL on {column} lets NULLs in while running code still reads "
                "the column as never null, so it can crash on the first NULL",
                "ship code that handles NULL first, then drop the constraint; if it "
                "already does, ignore this finding with that reason")
        elif subtype == "AT_AddColumn" and "ColumnDef" in (cmd.get("def") or {}):
            _required_column(table, cmd["def"]["ColumnDef"], ctx)
        elif subtype == "AT_ColumnDefault" and not cmd.get("def"):
            ctx.report(
                "MG330",
                f"DROP DEFAULT on {column} makes inserts by running code that omit the "
                "column store NULL or fail on NOT NULL",
                "ship code that always sets the column first, then drop the default")


#: Constraints that give every existing row a value (or make the column nullable again).
_FILLED = {"CONSTR_DEFAULT", "CONSTR_GENERATED", "CONSTR_IDENTITY"}
_SERIAL = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}


def _required_column(table: str, column: Node, ctx: Context) -> None:
    """ADD COLUMN ... NOT NULL (or PRIMARY KEY) with nothing to fill existing rows."""
    constraints = [c["Constraint"] for c in column.get("constraints") or []
                   if "Constraint" in c]
    contypes = {c.get("contype") for c in constraints}
    defaults = [c for c in constraints if c.get("contype") == "CONSTR_DEFAULT"]
    null_default = all(c.get("raw_expr", {}).get("A_Const", {}).get("isnull")
                       for c in defaults)
    kind = type_name(column.get("typeName") or {})
    if not {"CONSTR_NOTNULL", "CONSTR_PRIMARY"} & contypes or kind in _SERIAL:
        return
    if (_FILLED - {"CONSTR_DEFAULT"}) & contypes or (defaults and not null_default):
        return
    ctx.report(
        "MG331",
        f"ADD COLUMN \"{column.get('colname')}\" NOT NULL without a DEFAULT fails on "
        f"\"{table}\" as soon as it has a row, and inserts by the application version "
        "still running (which does not set the column) fail too",
        "add the column nullable (or with a DEFAULT), backfill it, then add the NOT NULL "
        "constraint (CHECK ... NOT VALID, VALIDATE, SET NOT NULL)")


#: Every code this family reports: with none of them enabled, the engine skips it.
CODES = frozenset({
    "MG320", "MG321", "MG322", "MG323", "MG324", "MG325", "MG326", "MG327", "MG328",
    "MG329", "MG330", "MG331", "MG332",
})
HANDLERS: dict[str, list[Callable[[Node, Context], None]]] = {
    "DropStmt": [drop],
    "DropdbStmt": [drop_database],
    "RenameStmt": [rename],
    "TruncateStmt": [truncate],
    "DeleteStmt": [delete],
    "UpdateStmt": [update],
    "AlterTableStmt": [alter_table],
}
