"""Records of a trace: what each statement of a traced migration did on the database.

Stdlib only (findings.py imports it): the apply check fills them, the report renders them.
The lock conflict table is PostgreSQL's ("Conflicting Lock Modes" in the docs of explicit
locking), reduced to the traffic a reviewer cares about.
"""

from __future__ import annotations

import re

from migration_guard.typing_lite import NamedTuple

#: What ordinary traffic takes on a table: SELECT (ACCESS SHARE), INSERT/UPDATE/DELETE
#: (ROW EXCLUSIVE), and DDL as weak as VACUUM, ANALYZE or CREATE INDEX CONCURRENTLY
#: (SHARE UPDATE EXCLUSIVE); every stronger DDL is blocked by every lock.
READS = "reads"
WRITES = "writes"
DDL = "ddl"

_CONFLICTS: dict[str, frozenset[str]] = {
    "AccessShareLock": frozenset({"AccessExclusiveLock"}),
    "RowShareLock": frozenset({"ExclusiveLock", "AccessExclusiveLock"}),
    "RowExclusiveLock": frozenset({"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock",
                                   "AccessExclusiveLock"}),
    "ShareUpdateExclusiveLock": frozenset({
        "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock",
        "AccessExclusiveLock"}),
    "ShareLock": frozenset({"RowExclusiveLock", "ShareUpdateExclusiveLock",
                            "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}),
    "ShareRowExclusiveLock": frozenset({
        "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
        "ExclusiveLock", "AccessExclusiveLock"}),
    "ExclusiveLock": frozenset({
        "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
        "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}),
    "AccessExclusiveLock": frozenset({
        "AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
        "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}),
}
_TRAFFIC = ((READS, "AccessShareLock"), (WRITES, "RowExclusiveLock"),
            (DDL, "ShareUpdateExclusiveLock"))


def blocked_by(mode: str) -> tuple[str, ...]:
    """The traffic a lock of ``mode`` (pg_locks spelling) blocks: reads, writes, ddl."""
    return tuple(kind for kind, taken in _TRAFFIC if mode in _CONFLICTS[taken])


_STRENGTH = ("AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
             "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")


def strength(mode: str) -> int:
    """Rank of a table lock mode, weakest first (each conflicts with at least as much as
    the ones before it)."""
    return _STRENGTH.index(mode) if mode in _STRENGTH else -1


def mode_name(mode: str) -> str:
    """``ShareRowExclusiveLock`` as the docs and ``LOCK TABLE`` spell it: SHARE ROW EXCLUSIVE."""
    words: list[str] = []
    for char in mode.removesuffix("Lock"):
        if char.isupper() and words:
            words.append(" ")
        words.append(char.upper())
    return "".join(words)


class LockHeld(NamedTuple):
    """One lock a statement took (it did not hold it before the statement)."""

    relation: str  # schema.table
    mode: str  # pg_locks spelling: AccessExclusiveLock
    acquired_ms: float  # the start of the statement, since the traced run began
    held_ms: float  # until the end of its transaction (or of the statement, in autocommit)
    blocks: tuple[str, ...]  # READS, WRITES, DDL
    named: bool  # the statement names this table as its target
    held_through: int  # later statements of the same transaction that ran while it was held
    rows: int  # rows the table had in the base


def strongest(locks: tuple[LockHeld, ...]) -> list[LockHeld]:
    """The strongest lock taken on each relation, in first-taken order."""
    best: dict[str, LockHeld] = {}
    for lock in locks:
        if lock.relation not in best or strength(lock.mode) > strength(best[lock.relation].mode):
            best[lock.relation] = lock
    return list(best.values())


class TracedStatement(NamedTuple):
    path: str
    line: int
    sql: str
    mode: str  # "transaction" | "autocommit" (sampled from a second connection)
    duration_ms: float  # at the sample row count
    scaled_ms: float | None  # at trace_rows (None: not measured)
    growth: str  # "flat" | "linear" | "" (not measured)
    locks: tuple[LockHeld, ...]
    rewrites: tuple[str, ...]  # tables whose relfilenode changed (partitions as parent/part)
    scans: tuple[str, ...]  # tables the statement scanned sequentially ("?" unknown)
    static: tuple[str, ...]  # static lint codes on this statement: "MG304 confirmed"
    #: Every table locked once the statement ran (taken earlier in its transaction too):
    #: (relation, strongest mode held, rows in the base).
    holding: tuple[tuple[str, str, int], ...] = ()


class MigrationTrace(NamedTuple):
    path: str
    statements: tuple[TracedStatement, ...]
    sample_rows: int
    trace_rows: int
    timezone: str


# Compiled on first use (re caches it): every hook imports this module through findings.
_DML = (r"(?is)^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*"
        r"(select|insert|update|delete|merge|with|copy|values|table)\b")


def is_dml(sql: str) -> bool:
    """Whether a statement reads or writes rows (its scans are the planner's choice) rather
    than changing the schema (where a scan is PostgreSQL checking every row)."""
    return re.match(_DML, sql) is not None


def rows_of(rows: dict[str, int], relation: str) -> int:
    """Rows the base had in a table (a partition counts its parent's)."""
    table = relation.split(" (partition ", 1)[0]
    return rows.get(table, 0)
