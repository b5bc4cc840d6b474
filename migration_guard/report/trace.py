"""The trace in each format: a per-statement table under each traced migration (text and
the job summary), and every lock with its relation, mode, times and what it blocks (JSON).
"""

from __future__ import annotations

from collections.abc import Sequence

from migration_guard.findings import Finding, Outcome
from migration_guard.report.common import display_path, one_line
from migration_guard.tracing import (
    LockHeld,
    MigrationTrace,
    TracedStatement,
    mode_name,
    strongest,
)

COLUMNS = ("line", "statement", "ms", "at trace_rows", "locks", "rewrites", "scans",
           "static lint")
_SQL_WIDTH = 60


def traces_of(outcomes: Sequence[Outcome]) -> list[tuple[str, MigrationTrace]]:
    """Every traced migration with its project, in run order."""
    return [(o.project, trace) for o in outcomes for trace in o.traces]


def statement_text(statement: TracedStatement, width: int = _SQL_WIDTH) -> str:
    sql = " ".join(statement.sql.split())
    return sql if len(sql) <= width else sql[:width - 3] + "..."


def lock_text(lock: LockHeld) -> str:
    blocks = ", ".join(lock.blocks) or "nothing"
    partner = "" if lock.named else ", not the statement's target"
    return (f"{lock.relation} {mode_name(lock.mode)} held {lock.held_ms:.1f} ms "
            f"(blocks {blocks}{partner})")


def scaled_text(statement: TracedStatement) -> str:
    if statement.scaled_ms is None:
        return "-"
    return f"{statement.scaled_ms:.1f} ({statement.growth})"


def cells(statement: TracedStatement) -> list[str]:
    """One row of the table, in :data:`COLUMNS` order."""
    return [str(statement.line), statement_text(statement),
            f"{statement.duration_ms:.1f}" + ("" if statement.mode == "transaction"
                                              else " autocommit"),
            scaled_text(statement),
            "; ".join(lock_text(lock) for lock in strongest(statement.locks)) or "-",
            ", ".join(statement.rewrites) or "-",
            "not observable" if statement.scans == ("?",) else ", ".join(statement.scans) or "-",
            ", ".join(statement.static) or "-"]


def heading(trace: MigrationTrace) -> str:
    rows = f"{trace.sample_rows} sample rows per base table"
    if trace.trace_rows > trace.sample_rows:
        rows += f", then {trace.trace_rows}"
    return f"trace of {display_path(trace.path)} ({rows}; TimeZone {trace.timezone})"


def text_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """Under a heading per migration, a ``|``-separated row per statement."""
    lines: list[str] = []
    for _project, trace in traces_of(outcomes):
        lines.append(heading(trace) + ":")
        lines.append("  " + " | ".join(COLUMNS))
        lines += ["  " + " | ".join(one_line(c) for c in cells(s)) for s in trace.statements]
    return lines


def json_traces(outcomes: Sequence[Outcome]) -> list[dict[str, object]]:
    return [{
        "project": project, "path": trace.path, "sample_rows": trace.sample_rows,
        "trace_rows": trace.trace_rows, "timezone": trace.timezone,
        "statements": [{
            "line": s.line, "sql": s.sql, "mode": s.mode,
            "duration_ms": round(s.duration_ms, 3),
            "duration_at_trace_rows_ms": None if s.scaled_ms is None else round(s.scaled_ms, 3),
            "growth": s.growth or None,
            "locks": [{"relation": lock.relation, "mode": mode_name(lock.mode),
                       "acquired_at_ms": lock.acquired_ms, "held_for_ms": lock.held_ms,
                       "blocks": list(lock.blocks), "statement_target": lock.named,
                       "held_through_statements": lock.held_through,
                       "rows_in_base": lock.rows} for lock in s.locks],
            "rewrites": list(s.rewrites),
            "scans": None if s.scans == ("?",) else list(s.scans),
            "static_lint": list(s.static),
        } for s in trace.statements],
    } for project, trace in traces_of(outcomes)]


def with_trace_verdicts(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Each static lint finding on a traced statement, told whether the trace confirmed it
    (when the lint and the apply check ran together, as ``check`` runs them)."""
    verdicts: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    for _project, trace in traces_of(outcomes):
        starts = [s.line for s in trace.statements]
        for index, statement in enumerate(trace.statements):
            end = starts[index + 1] if index + 1 < len(starts) else 1 << 30
            for verdict in statement.static:
                code, _, said = verdict.partition(" ")
                verdicts.setdefault((trace.path, code), []).append(
                    (statement.line, max(end, statement.line + 1), said))
    if not verdicts:
        return list(outcomes)
    return [o._replace(findings=[_told(f, verdicts) for f in o.findings]) for o in outcomes]


def _told(finding: Finding, verdicts: dict[tuple[str, str], list[tuple[int, int, str]]]
          ) -> Finding:
    if finding.check != "lint" and not finding.code.startswith("MG3"):
        return finding
    for start, end, said in verdicts.get((finding.path, finding.code), []):
        if start <= (finding.line or 0) < end:
            return finding._replace(message=f"{finding.message} [trace: {said}]")
    return finding
