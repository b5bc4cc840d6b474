"""Locking and rewrites: DDL that blocks reads or writes of an existing table while it runs.

Statements on tables created earlier in the same file or change set are exempt: nobody
else uses those tables yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migration_guard.lint.context import Context, Node, names, table_name, type_name

SERIAL_TYPES = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}
#: Functions PostgreSQL marks immutable or stable, safe in an ADD COLUMN default on 11+.
_NON_VOLATILE = {
    "now", "current_timestamp", "transaction_timestamp", "statement_timestamp",
    "current_date", "localtimestamp", "current_user", "session_user", "lower", "upper",
    "coalesce", "to_jsonb", "jsonb_build_object", "json_build_object", "array_fill",
    "make_interval", "interval", "to_timestamp", "date_trunc",
}
_LOCK_HINT = ("add SET lock_timeout = '2s'; before it (and retry the migration on "
              "timeout), so a blocked lock request fails fast instead of queueing traffic")


def _named(name: object) -> str:
    return f" {name}" if name else ""


def _constraints(column: Node) -> list[Node]:
    return [c["Constraint"] for c in column.get("constraints") or [] if "Constraint" in c]


def _functions(expr: Any) -> list[str]:
    """Names of the functions an expression calls (walks dicts and lists)."""
    found: list[str] = []
    stack = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            call = item.get("FuncCall")
            if isinstance(call, dict):
                parts = names(call.get("funcname"))
                found.append(parts[-1] if parts else "")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _is_null(expr: Node) -> bool:
    return bool(expr.get("A_Const", {}).get("isnull"))


def _add_column(table: str, column: Node, ctx: Context) -> None:
    name = column.get("colname", "?")
    kind = type_name(column.get("typeName", {}))
    constraints = _constraints(column)
    contypes = {c.get("contype") for c in constraints}
    if kind in SERIAL_TYPES or "CONSTR_IDENTITY" in contypes:
        key = " PRIMARY KEY" if "CONSTR_PRIMARY" in contypes else ""
        ctx.report(
            "MG306",
            f"adding {kind or 'identity'}{key} column \"{name}\" to existing table "
            f"\"{table}\" fills a value into every row: the table is rewritten under an "
            "ACCESS EXCLUSIVE lock, blocking all reads and writes for the duration",
            "add a nullable bigint column, attach a sequence default, backfill in batches, "
            "then build a unique index CONCURRENTLY and ADD PRIMARY KEY USING INDEX")
    for constraint in constraints:
        if constraint.get("contype") == "CONSTR_DEFAULT":
            expr = constraint.get("raw_expr") or {}
            if _is_null(expr):
                continue
            if ctx.options.pg_version < 11:
                ctx.report(
                    "MG305",
                    f"before PostgreSQL 11, ADD COLUMN \"{name}\" with a DEFAULT rewrites "
                    f"\"{table}\" under an ACCESS EXCLUSIVE lock, blocking all reads and "
                    "writes for the duration",
                    "add the column without a default, set the default in a second "
                    "statement, and backfill existing rows in batches")
                continue
            volatile = [f for f in _functions(expr) if f.lower() not in _NON_VOLATILE]
            if volatile:
                ctx.report(
                    "MG305",
                    f"ADD COLUMN \"{name}\" with a default calling {volatile[0]}() (volatile, "
                    f"or not known to be stable) rewrites \"{table}\" under an ACCESS "
                    "EXCLUSIVE lock, blocking all reads and writes for the duration",
                    "add the column with no default (or a constant one), then backfill "
                    "existing rows in batches and set the default for new rows")
        elif constraint.get("contype") in ("CONSTR_UNIQUE", "CONSTR_PRIMARY"):
            _unique(table, "PRIMARY KEY" if constraint["contype"] == "CONSTR_PRIMARY"
                    else "UNIQUE", ctx)


def _unique(table: str, what: str, ctx: Context) -> None:
    ctx.report(
        "MG307",
        f"adding a {what} constraint to existing table \"{table}\" builds its index while "
        "holding an ACCESS EXCLUSIVE lock, blocking all reads and writes for the build",
        "CREATE UNIQUE INDEX CONCURRENTLY first (in its own non-transactional step), then "
        f"ALTER TABLE ... ADD CONSTRAINT ... {what} USING INDEX that_index")


def _add_constraint(table: str, constraint: Node, ctx: Context) -> None:
    contype = constraint.get("contype")
    if contype in ("CONSTR_FOREIGN", "CONSTR_CHECK") and not constraint.get("skip_validation"):
        what = "FOREIGN KEY" if contype == "CONSTR_FOREIGN" else "CHECK"
        blocked = ("writes to both tables" if contype == "CONSTR_FOREIGN"
                   else f"reads and writes of \"{table}\"")
        ctx.report(
            "MG302",
            f"adding {what} constraint{_named(constraint.get('conname'))} to existing table "
            f"\"{table}\" without NOT VALID checks every row while holding a lock that "
            f"blocks {blocked} for the whole scan",
            f"add it with NOT VALID, then run ALTER TABLE \"{table}\" VALIDATE CONSTRAINT "
            "... in a separate statement (validation only takes a SHARE UPDATE EXCLUSIVE "
            "lock)")
    elif contype in ("CONSTR_UNIQUE", "CONSTR_PRIMARY") and not constraint.get("indexname"):
        _unique(table, "PRIMARY KEY" if contype == "CONSTR_PRIMARY" else "UNIQUE", ctx)


def alter_table(node: Node, ctx: Context) -> None:
    if node.get("objtype", "OBJECT_TABLE") != "OBJECT_TABLE":
        return
    table = table_name(node.get("relation", {}))
    if ctx.is_new(table):
        return
    for item in node.get("cmds") or []:
        cmd = item.get("AlterTableCmd", {})
        subtype = cmd.get("subtype")
        definition = cmd.get("def") or {}
        if subtype == "AT_AddColumn" and "ColumnDef" in definition:
            _add_column(table, definition["ColumnDef"], ctx)
        elif subtype == "AT_AddConstraint" and "Constraint" in definition:
            _add_constraint(table, definition["Constraint"], ctx)
        elif subtype == "AT_SetNotNull":
            ctx.report(
                "MG303",
                f"SET NOT NULL on \"{table}\".\"{cmd.get('name')}\" scans the whole table "
                "while holding an ACCESS EXCLUSIVE lock, blocking all reads and writes for "
                "the scan",
                "first ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID and VALIDATE it; "
                "on PostgreSQL 12+ SET NOT NULL then skips the scan, and the CHECK can go")
        elif subtype == "AT_AlterColumnType":
            ctx.report(
                "MG304",
                f"changing the type of \"{table}\".\"{cmd.get('name')}\" rewrites the table "
                "and its indexes under an ACCESS EXCLUSIVE lock, blocking all reads and "
                "writes for the duration, and breaks code that expects the old type",
                "add a new column of the new type, backfill it in batches, switch the code "
                "over, then drop the old column (varchar(n) to text or a longer varchar "
                "needs no rewrite: ignore this finding with that reason)")


def index(node: Node, ctx: Context) -> None:
    table = table_name(node.get("relation", {}))
    if node.get("concurrent") or ctx.is_new(table):
        return
    ctx.report(
        "MG301",
        f"CREATE INDEX{_named(node.get('idxname'))} on existing table \"{table}\" without "
        "CONCURRENTLY blocks every INSERT, UPDATE and DELETE on it until the index is "
        "built",
        "use CREATE INDEX CONCURRENTLY, outside a transaction block (its own migration, or "
        "Alembic's autocommit_block())")


def vacuum(node: Node, ctx: Context) -> None:
    options = {o.get("DefElem", {}).get("defname") for o in node.get("options") or []}
    if node.get("is_vacuumcmd") and "full" in options:
        ctx.report(
            "MG308",
            "VACUUM FULL rewrites each table under an ACCESS EXCLUSIVE lock, blocking all "
            "reads and writes until it finishes",
            "use plain VACUUM in a maintenance job, or pg_repack to compact without the lock")


def cluster(node: Node, ctx: Context) -> None:
    ctx.report(
        "MG308",
        "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock, blocking all reads and "
        "writes until it finishes",
        "drop CLUSTER from the migration; use pg_repack --order-by in a maintenance window")


def _locks_existing_table(node_type: str, node: Node, ctx: Context) -> str | None:
    """The existing table a statement takes a strong lock on, or ``None``."""
    if node_type in ("AlterTableStmt", "RenameStmt", "ClusterStmt") or (
        node_type == "IndexStmt" and not node.get("concurrent")
    ):
        relation = node.get("relation")
        table = table_name(relation) if relation else ""
        return table if table and not ctx.is_new(table) else None
    if node_type == "TruncateStmt":
        for rel in node.get("relations") or []:
            table = table_name(rel.get("RangeVar", {}))
            if not ctx.is_new(table):
                return table
    if node_type == "DropStmt" and node.get("removeType") == "OBJECT_TABLE":
        for obj in node.get("objects") or []:
            table = ".".join(names(obj.get("List", {}).get("items")))
            if table and not ctx.is_new(table.removeprefix("public.")):
                return table
    return None


def lock_timeout(node_type: str, node: Node, ctx: Context) -> None:
    """Remember SET lock_timeout; flag the first strong lock taken before one."""
    if node_type == "VariableSetStmt" and node.get("name") == "lock_timeout":
        ctx.lock_timeout_set = True
        return
    if node_type == "SelectStmt" and "lock_timeout" in str(node.get("targetList")):
        ctx.lock_timeout_set = True  # SELECT set_config('lock_timeout', ...)
        return
    if ctx.lock_timeout_set or ctx.lock_timeout_reported or "MG309" not in ctx.enabled:
        return
    table = _locks_existing_table(node_type, node, ctx)
    if table is not None:
        ctx.lock_timeout_reported = True
        ctx.report(
            "MG309",
            f"this statement waits for a lock on \"{table}\" with no lock_timeout: stuck "
            "behind one long-running query, it makes every later read and write of "
            f"\"{table}\" queue behind it, an outage for its users",
            _LOCK_HINT)


#: Every code HANDLERS report: with none of them enabled, the engine skips them (MG309 is
#: :func:`lock_timeout`'s, which the engine calls only while MG309 is enabled).
CODES = frozenset({
    "MG301", "MG302", "MG303", "MG304", "MG305", "MG306", "MG307", "MG308",
})
HANDLERS: dict[str, list[Callable[[Node, Context], None]]] = {
    "AlterTableStmt": [alter_table],
    "IndexStmt": [index],
    "VacuumStmt": [vacuum],
    "ClusterStmt": [cluster],
}
