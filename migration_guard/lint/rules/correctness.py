"""Statements that fail at deploy time or do something other than they read: names
PostgreSQL truncates, columns assigned twice, row level security with no policy, enum
values appended where nobody chose."""

from __future__ import annotations

from collections.abc import Callable

from migration_guard.lint.context import Context, Node, names, table_name
from migration_guard.lint.pgparser import parser as pg_parser

#: PostgreSQL keeps the first NAMEDATALEN - 1 bytes of an identifier.
MAX_IDENTIFIER_BYTES = 63
def _column_names(column: Node) -> list[str]:
    found = [str(column.get("colname", ""))]
    found.extend(str(c["Constraint"].get("conname", "")) for c in column.get("constraints") or []
                 if "Constraint" in c)
    return found


def _element_names(element: Node) -> list[str]:
    if "ColumnDef" in element:
        return _column_names(element["ColumnDef"])
    return [str(element.get("Constraint", {}).get("conname", ""))]


def _defined_names(node: Node) -> list[str]:
    """The names a DDL statement defines (tables, columns, constraints, indexes...)."""
    found = [str(node.get(key) or "") for key in
             ("idxname", "newname", "schemaname", "policy_name", "trigname")]
    for key in ("relation", "sequence", "view"):
        found.append(str((node.get(key) or {}).get("relname", "")))
    found.append(str(((node.get("into") or {}).get("rel") or {}).get("relname", "")))
    for element in node.get("tableElts") or []:
        found.extend(_element_names(element))
    for item in node.get("cmds") or []:
        found.extend(_element_names(item.get("AlterTableCmd", {}).get("def") or {}))
    return found


#: A name truncated by the parser is at most 63 bytes, and at least 61 when a multi-byte
#: character was cut: only then is the statement's text scanned for the name as written.
_MAYBE_TRUNCATED = MAX_IDENTIFIER_BYTES - 2


def _long_names(statement: bytes) -> list[str]:
    """Identifiers longer than PostgreSQL keeps, as written in a statement. The parse tree
    cannot tell: the parser has already truncated them, as the server does."""
    text = statement.decode("utf-8", errors="replace")
    try:
        tokens = pg_parser.scan(text)
    except pg_parser.ParseError:
        return []
    found: list[str] = []
    for token in tokens:
        if token.name == "IDENT":
            name = text[token.start:token.end + 1]
            name = name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()
            if len(name.encode()) > MAX_IDENTIFIER_BYTES and name not in found:
                found.append(name)
    return found


def identifier_length(node: Node, ctx: Context) -> None:
    if not ctx.long_names or all(len(name.encode()) < _MAYBE_TRUNCATED
                                 for name in _defined_names(node)):
        return
    for name in _long_names(ctx.statement_bytes()):
        ctx.report(
            "MG361",
            f"name \"{name[:40]}...\" is {len(name.encode())} bytes: PostgreSQL silently "
            f"truncates it to {MAX_IDENTIFIER_BYTES}, so the object gets another name than "
            "the code and later migrations use, and two such names can collide",
            f"shorten the name to at most {MAX_IDENTIFIER_BYTES} bytes")


def _duplicates(columns: list[str]) -> list[str]:
    seen: set[str] = set()
    twice: set[str] = set()
    for column in columns:
        (twice if column in seen else seen).add(column)
    return sorted(twice)


def _report_duplicates(columns: list[str], verb: str, ctx: Context) -> None:
    for column in _duplicates(columns):
        ctx.report(
            "MG362",
            f"{verb} assigns column \"{column}\" more than once: PostgreSQL rejects the "
            "statement (\"multiple assignments to same column\"), so the migration fails "
            "at deploy time",
            f"assign \"{column}\" once")


def _target_names(targets: list[Node] | None) -> list[str]:
    return [str(t["ResTarget"]["name"]) for t in targets or []
            if t.get("ResTarget", {}).get("name")]


def update(node: Node, ctx: Context) -> None:
    _report_duplicates(_target_names(node.get("targetList")), "UPDATE", ctx)


def insert(node: Node, ctx: Context) -> None:
    _report_duplicates(_target_names(node.get("cols")), "INSERT", ctx)
    conflict = (node.get("onConflictClause") or {}).get("targetList")
    _report_duplicates(_target_names(conflict), "ON CONFLICT DO UPDATE", ctx)


def alter_table(node: Node, ctx: Context) -> None:
    for item in node.get("cmds") or []:
        if item.get("AlterTableCmd", {}).get("subtype") == "AT_EnableRowSecurity":
            table = table_name(node.get("relation") or {})
            ctx.rls_enabled.setdefault(table, ctx.offset)


def policy(node: Node, ctx: Context) -> None:
    ctx.policies.add(table_name(node.get("table") or {}))


def enum_value(node: Node, ctx: Context) -> None:
    if node.get("newVal") and not node.get("oldVal") and not node.get("newValNeighbor"):
        ctx.report(
            "MG364",
            f"ADD VALUE '{node['newVal']}' to enum {'.'.join(names(node.get('typeName')))} "
            "without BEFORE or AFTER appends it last, so ORDER BY and comparisons on the "
            "column sort it after every existing value",
            "say where it belongs: ADD VALUE '...' BEFORE 'existing' (or AFTER)")


def finish(ctx: Context) -> None:
    for table, offset in ctx.rls_enabled.items():
        if table not in ctx.policies:
            ctx.report(
                "MG363",
                f"row level security is enabled on \"{table}\" and no policy for it is "
                "created in this file: every role but the owner and BYPASSRLS roles then "
                "sees no rows and cannot write any",
                f"CREATE POLICY ... ON {table} in the same migration (if its policies "
                "exist already, or the table is meant to be closed, ignore this finding "
                "with that reason)", offset)


_DDL = ("CreateStmt", "AlterTableStmt", "IndexStmt", "RenameStmt", "ViewStmt",
        "CreateSchemaStmt", "CreatePolicyStmt", "CreateTrigStmt", "CreateSeqStmt",
        "CreateTableAsStmt")

#: Every code this family reports: with none of them enabled, the engine skips it.
CODES = frozenset({"MG361", "MG362", "MG363", "MG364"})
HANDLERS: dict[str, list[Callable[[Node, Context], None]]] = {
    **{node_type: [identifier_length] for node_type in _DDL},
    "UpdateStmt": [update],
    "InsertStmt": [insert],
    "AlterEnumStmt": [enum_value],
    "CreatePolicyStmt": [identifier_length, policy],
    "AlterTableStmt": [identifier_length, alter_table],
}
FINISHERS = [finish]
