"""Transaction misuse: CONCURRENTLY inside a transaction block, nested BEGIN, no COMMIT,
COMMIT or ROLLBACK with no BEGIN."""

from __future__ import annotations

from collections.abc import Callable

from migration_guard.lint.context import Context, Node

_BEGIN = {"TRANS_STMT_BEGIN", "TRANS_STMT_START"}
_END = {"TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE"}


def _where(ctx: Context) -> str:
    if ctx.begin_offset is not None:
        return "inside the BEGIN block opened earlier in this file"
    return "inside the transaction the migration runner wraps this file in"


def transaction(node: Node, ctx: Context) -> None:
    kind = node.get("kind")
    if kind in _BEGIN:
        if ctx.tx_open:
            ctx.nested_begins += 1
            ctx.report(
                "MG341",
                f"BEGIN {_where(ctx)} does not start a new transaction: PostgreSQL only "
                "warns, and the first COMMIT then commits everything before it, so a later "
                "failure leaves the schema half-migrated",
                "remove the inner BEGIN (and its COMMIT), or set in_transaction = false if "
                "the runner does not wrap files in a transaction")
        elif ctx.begin_offset is None:
            ctx.begin_offset = ctx.offset
        ctx.tx_open = True
    elif kind in _END:
        if ctx.nested_begins:
            ctx.nested_begins -= 1
        elif ctx.begin_offset is None:
            _stray_end(kind, ctx)
        ctx.tx_open = False
        ctx.begin_offset = None


def _stray_end(kind: str, ctx: Context) -> None:
    """COMMIT or ROLLBACK with no BEGIN of this file open."""
    verb = "ROLLBACK" if "ROLLBACK" in kind else "COMMIT"
    if ctx.tx_open:
        ctx.report(
            "MG343",
            f"{verb} ends the transaction the migration runner wraps this file in: the "
            "statements after it run outside any transaction (a failure there leaves the "
            f"migration half-applied), and the runner's own COMMIT finds none open",
            f"remove the {verb}; the runner commits the file as a whole")
    else:
        ctx.report(
            "MG343",
            f"{verb} with no transaction open: PostgreSQL only warns, so the statements "
            "before it were never in one transaction, whatever the file suggests",
            f"add the BEGIN the block was meant to start, or remove the {verb}")


def _concurrently(what: str, ctx: Context) -> None:
    ctx.report(
        "MG340",
        f"{what} CONCURRENTLY {_where(ctx)}: PostgreSQL rejects it (\"cannot run inside a "
        "transaction block\") and the migration fails at deploy time",
        "run it outside any transaction: move it to its own migration file marked "
        "non-transactional, or wrap it in Alembic's op.get_context().autocommit_block()")


def index(node: Node, ctx: Context) -> None:
    if node.get("concurrent") and ctx.tx_open:
        _concurrently("CREATE INDEX", ctx)


def drop(node: Node, ctx: Context) -> None:
    if node.get("concurrent") and ctx.tx_open:
        _concurrently("DROP INDEX", ctx)


def reindex(node: Node, ctx: Context) -> None:
    params = node.get("params") or []
    if ctx.tx_open and any(p.get("DefElem", {}).get("defname") == "concurrently"
                           for p in params):
        _concurrently("REINDEX", ctx)


def refresh(node: Node, ctx: Context) -> None:
    if node.get("concurrent") and ctx.tx_open:
        _concurrently("REFRESH MATERIALIZED VIEW", ctx)


def alter_table(node: Node, ctx: Context) -> None:
    for item in node.get("cmds") or []:
        cmd = item.get("AlterTableCmd", {})
        if cmd.get("subtype") == "AT_DetachPartition" and ctx.tx_open:
            partition = cmd.get("def", {}).get("PartitionCmd", {})
            if partition.get("concurrent"):
                _concurrently("DETACH PARTITION", ctx)


def finish(ctx: Context) -> None:
    if ctx.begin_offset is not None:
        ctx.report(
            "MG342",
            "BEGIN opens a transaction block that is never committed: the runner's "
            "connection ends with it open, so the migration's changes are rolled back "
            "(or a later COMMIT from someone else's code commits them)",
            "add COMMIT; after the last statement of the block, or remove the BEGIN",
            ctx.begin_offset)


#: Every code this family reports: with none of them enabled, the engine skips it.
CODES = frozenset({
    "MG340", "MG341", "MG342", "MG343",
})
HANDLERS: dict[str, list[Callable[[Node, Context], None]]] = {
    "TransactionStmt": [transaction],
    "IndexStmt": [index],
    "DropStmt": [drop],
    "ReindexStmt": [reindex],
    "RefreshMatViewStmt": [refresh],
    "AlterTableStmt": [alter_table],
}
FINISHERS = [finish]
