"""Findings from a trace (MG240-MG244): what the observed locks, rewrites and scans mean
for production traffic, with the severity each deserves.

Every table of the base has a few sample rows, so a brief ACCESS EXCLUSIVE lock on one is
a warning; a rewrite, a scan under a lock that blocks writes, a lock held for a time that
grows with the table, or a blocking lock held across a slower statement is an error.
Each message says whether a static lint rule predicted it; when none did, it shows the
statement (a gap in the static rules).
"""

from __future__ import annotations

from migration_guard.findings import Finding
from migration_guard.tracing import (
    READS,
    WRITES,
    LockHeld,
    MigrationTrace,
    TracedStatement,
    blocked_by,
    is_dml,
    mode_name,
    rows_of,
    strongest,
)

CHECK = "apply"

#: Static lint codes that predict what each trace code observes.
COUNTERPARTS: dict[str, frozenset[str]] = {
    "MG240": frozenset({"MG301", "MG302", "MG303", "MG304", "MG305", "MG306", "MG307",
                        "MG308", "MG309"}),
    "MG241": frozenset({"MG304", "MG305", "MG306", "MG308"}),
    "MG242": frozenset(),
    "MG243": frozenset({"MG301", "MG302", "MG303", "MG307"}),
    "MG244": frozenset({"MG302"}),
}

_HINTS = {
    "MG240": "keep the lock brief: SET lock_timeout before the statement (and retry on "
             "timeout), and commit right after it",
    "MG241": "avoid the rewrite: add the column without a volatile default and backfill in "
             "batches; for a type change add a new column, backfill, and switch over",
    "MG242": "commit right after the locking statement: put the slower statements in a "
             "migration (or transaction) of their own",
    "MG243": "validate without blocking writes: add the constraint NOT VALID and VALIDATE it "
             "in a later migration (for SET NOT NULL, a validated CHECK (col IS NOT NULL) "
             "first)",
    "MG244": "add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a separate "
             "transaction",
}

#: At ``trace_rows``, a later statement is "slower" when it grows with the table while the
#: locking one does not, or took more than twice as long and 20 ms more.
SLOWER_FACTOR = 2.0
SLOWER_MARGIN_MS = 20.0


def trace_findings(traces: list[MigrationTrace]) -> list[Finding]:
    statements = [s for trace in traces for s in trace.statements]
    found: list[Finding] = []
    for index, statement in enumerate(statements):
        found += _statement_findings(statement, statements[index + 1:])
    return found


def _statement_findings(statement: TracedStatement,
                        following: list[TracedStatement]) -> list[Finding]:
    held = {relation: (mode, rows) for relation, mode, rows in statement.holding}
    found = [_finding("MG241", statement, "error",
                      f"rewrote {table} ({rows} rows in the base): the whole table is copied "
                      f"while the statement holds its lock")
             for table in statement.rewrites
             if (rows := rows_of({r: n for r, (_m, n) in held.items()}, table))]
    scanned = [] if is_dml(statement.sql) else [t for t in statement.scans if t != "?"]
    reported: set[str] = set()  # tables with a finding of their own: no MG240 for them too
    for table in scanned:
        mode, rows = held.get(table, ("", 0))
        if rows and WRITES in blocked_by(mode) and not _rewrote(statement, table):
            reported.add(table)
            found.append(_finding("MG243", statement, "error",
                                  f"scanned {table} ({rows} rows in the base) under "
                                  f"{_held_mode(mode)}: every row is read while traffic waits"))
    grows = statement.growth == "linear"
    for lock in strongest(statement.locks):
        if not lock.rows or not {READS, WRITES} & set(lock.blocks):
            continue
        if lock.named and not _rewrote(statement, lock.relation) \
                and lock.relation not in reported:
            found.append(_finding("MG240", statement, "error" if grows else "warning",
                                  f"took {_held(lock)} on {lock.relation} ({lock.rows} rows "
                                  f"in the base){_timing(statement)}"))
        elif not lock.named:
            found.append(_finding("MG244", statement, "error" if grows else "warning",
                                  f"took {_held(lock)} on {lock.relation} ({lock.rows} rows in "
                                  f"the base), a table the statement does not alter"
                                  f"{_timing(statement)}"))
        if lock.held_through:
            found.append(_held_across(statement, lock, following[:lock.held_through]))
    return found


def _held_across(statement: TracedStatement, lock: LockHeld,
                 later: list[TracedStatement]) -> Finding:
    slower = [s for s in later if _slower(s, statement)]
    where = ", ".join(_place(s, statement) for s in later[:5]) + ("..." if len(later) > 5 else "")
    message = (f"holds {_held(lock)} on {lock.relation} ({lock.rows} rows in the base) "
               f"through {len(later)} later statement{'s' if len(later) > 1 else ''} of its "
               f"transaction ({where}) until commit")
    if slower:
        worst = max(slower, key=_largest)
        message += (f"; {_place(worst, statement)} runs longer than the statement that took "
                    f"the lock{' and grows with the table' if worst.growth == 'linear' else ''}")
    return _finding("MG242", statement, "error" if slower else "warning", message)


def _place(statement: TracedStatement, origin: TracedStatement) -> str:
    if statement.path == origin.path:
        return f"line {statement.line}"
    return f"{statement.path}:{statement.line}"


def _slower(later: TracedStatement, statement: TracedStatement) -> bool:
    """Measured at ``trace_rows`` only: at a few sample rows every statement takes a few
    milliseconds, and which is slower is noise."""
    if later.scaled_ms is None or statement.scaled_ms is None:
        return False
    if later.growth == "linear" and statement.growth != "linear":
        return True
    mine, theirs = statement.scaled_ms, later.scaled_ms
    return theirs > SLOWER_FACTOR * mine and theirs - mine > SLOWER_MARGIN_MS


def _largest(statement: TracedStatement) -> float:
    return statement.scaled_ms if statement.scaled_ms is not None else statement.duration_ms


def _rewrote(statement: TracedStatement, relation: str) -> bool:
    return any(t.split(" (partition ", 1)[0] == relation for t in statement.rewrites)


def _held(lock: LockHeld) -> str:
    return _held_mode(lock.mode)


def _held_mode(mode: str) -> str:
    blocks = blocked_by(mode)
    return f"{mode_name(mode)} (blocks {' and '.join(blocks) if blocks else 'nothing'})"


def _timing(statement: TracedStatement) -> str:
    """How long, in words that do not change from run to run (the table has the times)."""
    if statement.growth == "linear":
        return ", for a time that grows with the table"
    if statement.growth == "flat":
        return ", briefly (the time does not grow with the table)"
    return ""


def _counterpart(code: str, statement: TracedStatement) -> str:
    predicted = sorted({v.split()[0] for v in statement.static} & COUNTERPARTS[code])
    if predicted:
        return f" [static lint {', '.join(predicted)} predicted this]"
    sql = " ".join(statement.sql.split())
    shown = sql if len(sql) <= 160 else sql[:157] + "..."
    return f" [no static rule flagged this statement: {shown}]"


def _finding(code: str, statement: TracedStatement, severity: str, message: str) -> Finding:
    return Finding(code, statement.path, statement.line,
                   f"traced: {message}{_counterpart(code, statement)}", _HINTS[code],
                   check=CHECK, severity=severity)
