"""Locking and rewrites: DDL that blocks reads or writes of an existing table while it runs.

Statements on tables created earlier in the same file or change set are exempt: nobody
else uses those tables yet.
"""

from __future__ import annotations

from collections.abc import Callable

from migration_guard.lint.context import Context, Node, names, table_name, type_name
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

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
        contype = constraint.get("contype")
        if contype == "CONSTR_DEFAULT":
            _add_column_default(table, name, constraint.get("raw_expr") or {}, ctx)
        elif contype == "CONSTR_GENERATED" and constraint.get("generated_kind", "s") == "s":
            ctx.report(
                "MG305",
                f"ADD COLUMN \"{name}\" GENERATED ... STORED computes the value for every "
                f"row: \"{table}\" is rewritten under an ACCESS EXCLUSIVE lock, blocking all "
                "reads and writes for the duration",
                "add a plain nullable column, backfill it in batches and keep it current "
                "with a trigger (or, on PostgreSQL 18+, use a VIRTUAL generated column)")
        elif contype in ("CONSTR_UNIQUE", "CONSTR_PRIMARY"):
            _unique(table, "PRIMARY KEY" if contype == "CONSTR_PRIMARY" else "UNIQUE", ctx)
        elif contype == "CONSTR_FOREIGN":
            ctx.report(
                "MG302",
                f"ADD COLUMN \"{name}\" ... REFERENCES adds a foreign key to existing table "
                f"\"{table}\" that is validated at once, holding a lock that blocks writes "
                "to both tables while it runs (a column constraint cannot be NOT VALID)",
                f"add the column without REFERENCES, then ALTER TABLE \"{table}\" ADD "
                "CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a "
                "separate statement")


def _add_column_default(table: str, name: str, expr: Node, ctx: Context) -> None:
    if _is_null(expr):
        return
    if ctx.options.pg_version < 11:
        ctx.report(
            "MG305",
            f"before PostgreSQL 11, ADD COLUMN \"{name}\" with a DEFAULT rewrites "
            f"\"{table}\" under an ACCESS EXCLUSIVE lock, blocking all reads and "
            "writes for the duration",
            "add the column without a default, set the default in a second "
            "statement, and backfill existing rows in batches")
        return
    volatile = [f for f in _functions(expr) if f.lower() not in _NON_VOLATILE]
    if volatile:
        ctx.report(
            "MG305",
            f"ADD COLUMN \"{name}\" with a default calling {volatile[0]}() (volatile, "
            f"or not known to be stable) rewrites \"{table}\" under an ACCESS "
            "EXCLUSIVE lock, blocking all reads and writes for the duration",
            "add the column with no default (or a constant one), then backfill "
            "existing rows in batches and set the default for new rows")


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
    elif contype in ("CONSTR_FOREIGN", "CONSTR_CHECK"):
        ctx.not_valid.add((table, str(constraint.get("conname") or "")))
    elif contype in ("CONSTR_UNIQUE", "CONSTR_PRIMARY") and not constraint.get("indexname"):
        _unique(table, "PRIMARY KEY" if contype == "CONSTR_PRIMARY" else "UNIQUE", ctx)


def _not_null_columns(expr: Node) -> tuple[str, ...]:
    """The columns a CHECK expression proves non-null: ``a IS NOT NULL [AND b IS NOT NULL]``."""
    test = expr.get("NullTest")
    if test is not None:
        fields = names(test.get("arg", {}).get("ColumnRef", {}).get("fields"))
        if test.get("nulltesttype") == "IS_NOT_NULL" and len(fields) == 1:
            return fields
        return ()
    boolean = expr.get("BoolExpr")
    if boolean is not None and boolean.get("boolop") == "AND_EXPR":
        return tuple(c for arg in boolean.get("args") or [] for c in _not_null_columns(arg))
    return ()


def _remember_not_null_check(table: str, constraint: Node, ctx: Context) -> None:
    """Track ``CHECK (col IS NOT NULL)``: once valid, SET NOT NULL (12+) needs no scan."""
    columns = _not_null_columns(constraint.get("raw_expr") or {})
    if not columns:
        return
    if not constraint.get("skip_validation"):
        ctx.validated_not_null.update((table, column) for column in columns)
        return
    bare = table.rpartition(".")[2]
    # PostgreSQL names an unnamed one-column CHECK <table>_<column>_check.
    name = constraint.get("conname") or f"{bare}_{columns[0]}_check"
    ctx.pending_not_null[(table, str(name))] = columns


def _validate(table: str, name: str, ctx: Context) -> None:
    columns = ctx.pending_not_null.pop((table, name), ())
    ctx.validated_not_null.update((table, column) for column in columns)
    if ctx.options.in_transaction and (table, name) in ctx.not_valid:
        ctx.report(
            "MG302",
            f"VALIDATE CONSTRAINT {name} runs in the same transaction as the ADD CONSTRAINT "
            f"... NOT VALID before it, which holds its lock on \"{table}\" until the commit: "
            "the validation scan blocks reads and writes as if NOT VALID had not been used",
            "move VALIDATE CONSTRAINT to its own migration (the runner wraps each file in "
            "a transaction)")


def _set_not_null(table: str, column: str, ctx: Context) -> None:
    proven = (table, column) in ctx.validated_not_null
    if proven and ctx.options.pg_version >= 12:
        return
    why = (" (before PostgreSQL 12 it scans even with a validated CHECK (col IS NOT NULL))"
           if proven else "")
    fix = ("first ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID and VALIDATE it; "
           "on PostgreSQL 12+ SET NOT NULL then skips the scan, and the CHECK can go"
           if ctx.options.pg_version >= 12 else
           "keep the CHECK (col IS NOT NULL) constraint validated NOT VALID-then-VALIDATE "
           "instead of SET NOT NULL, or run SET NOT NULL in a maintenance window")
    ctx.report(
        "MG303",
        f"SET NOT NULL on \"{table}\".\"{column}\" scans the whole table while holding an "
        f"ACCESS EXCLUSIVE lock, blocking all reads and writes for the scan{why}",
        fix)


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
            if definition["Constraint"].get("contype") == "CONSTR_CHECK":
                _remember_not_null_check(table, definition["Constraint"], ctx)
        elif subtype == "AT_ValidateConstraint":
            _validate(table, str(cmd.get("name")), ctx)
        elif subtype == "AT_SetNotNull":
            _set_not_null(table, str(cmd.get("name")), ctx)
        elif subtype == "AT_AlterColumnType":
            ctx.report(
                "MG304",
                f"changing the type of \"{table}\".\"{cmd.get('name')}\" rewrites the table "
                "and its indexes under an ACCESS EXCLUSIVE lock, blocking all reads and "
                "writes for the duration, and breaks code that expects the old type",
                "add a new column of the new type, backfill it in batches, switch the code "
                "over, then drop the old column (varchar(n) to text or a longer varchar "
                "needs no rewrite: ignore this finding with that reason)")
        elif subtype == "AT_DetachPartition" and ctx.options.pg_version >= 14:
            partition = definition.get("PartitionCmd", {})
            if not partition.get("concurrent"):
                ctx.report(
                    "MG312",
                    f"DETACH PARTITION {table_name(partition.get('name') or {})} takes an "
                    f"ACCESS EXCLUSIVE lock on \"{table}\", blocking all reads and writes of "
                    "every partition until it finishes",
                    "use DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+), outside a "
                    "transaction block")


def index(node: Node, ctx: Context) -> None:
    table = table_name(node.get("relation", {}))
    if node.get("idxname"):
        ctx.new_indexes.add(str(node["idxname"]))
    if node.get("concurrent") or ctx.is_new(table):
        return
    ctx.report(
        "MG301",
        f"CREATE INDEX{_named(node.get('idxname'))} on existing table \"{table}\" without "
        "CONCURRENTLY blocks every INSERT, UPDATE and DELETE on it until the index is "
        "built",
        "use CREATE INDEX CONCURRENTLY, outside a transaction block (its own migration, or "
        "Alembic's autocommit_block())")


def drop_index(node: Node, ctx: Context) -> None:
    if node.get("removeType") != "OBJECT_INDEX" or node.get("concurrent"):
        return
    dropped = [".".join(names(obj.get("List", {}).get("items")))
               for obj in node.get("objects") or []]
    old = [name for name in dropped if name.rpartition(".")[2] not in ctx.new_indexes]
    if old:
        ctx.report(
            "MG310",
            f"DROP INDEX {', '.join(old)} without CONCURRENTLY takes an ACCESS EXCLUSIVE "
            "lock on its table, blocking all reads and writes until every running query "
            "of the table finishes",
            "use DROP INDEX CONCURRENTLY, outside a transaction block (its own migration, "
            "or Alembic's autocommit_block())")


def reindex(node: Node, ctx: Context) -> None:
    params = node.get("params") or []
    if ctx.options.pg_version < 12 or any(
            p.get("DefElem", {}).get("defname") == "concurrently" for p in params):
        return
    relation = node.get("relation")
    target = table_name(relation) if relation else str(node.get("name") or "")
    if node.get("kind") == "REINDEX_OBJECT_TABLE" and ctx.is_new(target):
        return
    ctx.report(
        "MG311",
        f"REINDEX {target} without CONCURRENTLY blocks writes to the table (and reads "
        "that use the index) until the rebuild finishes",
        "use REINDEX ... CONCURRENTLY (PostgreSQL 12+), outside a transaction block")


def _option_on(element: Node) -> bool:
    """Whether a ``DefElem`` option is on: no value, or a value other than false/off/0."""
    arg = element.get("arg")
    if arg is None:
        return True
    if "Integer" in arg:
        return bool(arg["Integer"].get("ival", 0))
    if "Boolean" in arg:
        return bool(arg["Boolean"].get("boolval", False))
    value = str(arg.get("String", {}).get("sval", "true")).lower()
    return value not in ("false", "off", "0", "no")


def vacuum(node: Node, ctx: Context) -> None:
    full = [o["DefElem"] for o in node.get("options") or []
            if o.get("DefElem", {}).get("defname") == "full"]
    if node.get("is_vacuumcmd") and full and _option_on(full[-1]):
        ctx.report(
            "MG308",
            "VACUUM FULL rewrites each table under an ACCESS EXCLUSIVE lock, blocking all "
            "reads and writes until it finishes",
            "use plain VACUUM in a maintenance job, or pg_repack to compact without the lock")


def domain(node: Node, ctx: Context) -> None:
    """CREATE DOMAIN ... CHECK, or ALTER DOMAIN ... ADD CONSTRAINT CHECK without NOT VALID."""
    domain_name = ".".join(names(node.get("domainname") or node.get("typeName")))
    if "domainname" in node:
        checks = [c for c in _constraints(node) if c.get("contype") == "CONSTR_CHECK"]
        if checks:
            ctx.report(
                "MG314",
                f"domain {domain_name} has a CHECK constraint: changing it later validates "
                "every column of that type in every table, under locks that block writes, "
                "and its errors name the domain, not the column",
                "put the CHECK constraint on the table columns instead (NOT VALID, then "
                "VALIDATE CONSTRAINT)")
        return
    constraint = (node.get("def") or {}).get("Constraint", {})
    if node.get("subtype") == "C" and constraint.get("contype") == "CONSTR_CHECK" \
            and not constraint.get("skip_validation"):
        ctx.report(
            "MG314",
            f"ALTER DOMAIN {domain_name} ADD CONSTRAINT ... CHECK scans every table with a "
            "column of that type, holding locks that block writes to them for the scan",
            "add it NOT VALID, then ALTER DOMAIN ... VALIDATE CONSTRAINT in a separate "
            "statement")


def cluster(node: Node, ctx: Context) -> None:
    ctx.report(
        "MG308",
        "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock, blocking all reads and "
        "writes until it finishes",
        "drop CLUSTER from the migration; use pg_repack --order-by in a maintenance window")


def _locks_existing_table(node_type: str, node: Node, ctx: Context) -> str | None:
    """The existing table a statement takes a strong lock on, or ``None``."""
    if node_type in ("AlterTableStmt", "RenameStmt", "ClusterStmt", "ReindexStmt") or (
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
    if node_type == "DropStmt" and node.get("removeType") == "OBJECT_INDEX" \
            and not node.get("concurrent"):
        return ".".join(names((node.get("objects") or [{}])[0].get("List", {}).get("items")))
    if node_type == "DropStmt" and node.get("removeType") == "OBJECT_TABLE":
        for obj in node.get("objects") or []:
            table = ".".join(names(obj.get("List", {}).get("items")))
            if table and not ctx.is_new(table.removeprefix("public.")):
                return table
    return None


def _sets(setting: str, node_type: str, node: Node) -> bool:
    """Whether the statement sets ``setting`` (SET, SET LOCAL, or SELECT set_config(...))."""
    if node_type == "VariableSetStmt":
        return bool(node.get("name") == setting)
    return node_type == "SelectStmt" and setting in str(node.get("targetList"))


def timeouts(node_type: str, node: Node, ctx: Context) -> None:
    """Remember SET lock_timeout / statement_timeout; flag the first strong lock taken
    before each one (MG309, MG313)."""
    if node_type in ("VariableSetStmt", "SelectStmt"):
        ctx.lock_timeout_set = ctx.lock_timeout_set or _sets("lock_timeout", node_type, node)
        ctx.statement_timeout_set = ctx.statement_timeout_set or _sets(
            "statement_timeout", node_type, node)
        return
    lock = not ctx.lock_timeout_set and not ctx.lock_timeout_reported and "MG309" in ctx.enabled
    statement = (not ctx.statement_timeout_set and not ctx.statement_timeout_reported
                 and "MG313" in ctx.enabled)
    if not (lock or statement):
        return
    table = _locks_existing_table(node_type, node, ctx)
    if table is None:
        return
    if lock:
        ctx.lock_timeout_reported = True
        ctx.report(
            "MG309",
            f"this statement waits for a lock on \"{table}\" with no lock_timeout: stuck "
            "behind one long-running query, it makes every later read and write of "
            f"\"{table}\" queue behind it, an outage for its users",
            _LOCK_HINT)
    if statement:
        ctx.statement_timeout_reported = True
        ctx.report(
            "MG313",
            f"this statement holds a strong lock on \"{table}\" with no statement_timeout: "
            "if it runs long (a scan, a rewrite), every read and write of "
            f"\"{table}\" waits for as long as it runs",
            "add SET statement_timeout = '5s'; (or what the step needs) before it, so a "
            "slow statement fails and releases its lock instead of blocking traffic")


#: Every code HANDLERS report: with none of them enabled, the engine skips them (MG309 and
#: MG313 are :func:`timeouts`', which the engine calls only while one of them is enabled).
CODES = frozenset({
    "MG301", "MG302", "MG303", "MG304", "MG305", "MG306", "MG307", "MG308", "MG310",
    "MG311", "MG312", "MG314",
})
HANDLERS: dict[str, list[Callable[[Node, Context], None]]] = {
    "AlterTableStmt": [alter_table],
    "IndexStmt": [index],
    "DropStmt": [drop_index],
    "ReindexStmt": [reindex],
    "VacuumStmt": [vacuum],
    "ClusterStmt": [cluster],
    "CreateDomainStmt": [domain],
    "AlterDomainStmt": [domain],
}
