"""The trace (verified lint): what each statement of a new migration really did on the
upgrade path, observed on the database rather than predicted from rules.

A :class:`PassObserver` watches one apply of the new migrations, statement by statement,
whatever the transaction grouping (a file, a whole run, or autocommit): a statement that
runs inside a transaction is observed from its own backend (``pg_locks`` diffed after each
statement, ``relfilenode`` for rewrites, ``pg_stat_xact_user_tables`` for scans), and its
locks are held until that transaction ends; a statement in autocommit (``CREATE INDEX
CONCURRENTLY`` and the like) is observed by a second connection sampling ``pg_locks`` for
its backend while it runs. :class:`Tracer` joins the pass at the sample row count with
the one at ``trace_rows``, relates each statement to the static lint's findings, and turns
what was seen into findings (:mod:`migration_guard.apply.trace_findings`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import psycopg

from migration_guard.apply.settings import Settings
from migration_guard.db.execute import Statement
from migration_guard.db.locks import (
    STATE_PROBE,
    BackendState,
    LockSampler,
    backend_state,
    read_state,
    table_names,
)
from migration_guard.db.remote import connect
from migration_guard.errors import GuardError
from migration_guard.findings import Finding
from migration_guard.lint import LintOptions, lint_sql
from migration_guard.tracing import (
    LockHeld,
    MigrationTrace,
    TracedStatement,
    blocked_by,
    rows_of,
    strength,
)
from migration_guard.typing_lite import NamedTuple

_IDLE = psycopg.pq.TransactionStatus.IDLE
class TraceSettings(NamedTuple):
    """The project's ``trace`` keys, resolved."""

    mode: str  # "off" | "new" | "all"
    sample_rows: int
    trace_rows: int
    timezone: str


GROWTH_MARGIN_MS = 20.0


def growth(small_ms: float, large_ms: float | None) -> str:
    """``linear`` when the duration grew with the table (more than 4x and by more than
    20 ms from the sample row count to ``trace_rows``: timings of a few milliseconds
    vary that much on a busy machine), ``flat`` when it did not."""
    if large_ms is None:
        return ""
    grew = large_ms > 4 * small_ms and large_ms - small_ms > GROWTH_MARGIN_MS
    return "linear" if grew else "flat"


# -- one pass ---------------------------------------------------------------------------


@dataclass
class Seen:
    """One statement as the observer saw it (internal, mutable while its transaction runs)."""

    path: str
    line: int
    sql: str
    mode: str
    start: float
    end: float = 0.0
    transaction: int = 0
    locks: list[tuple[str, str]] = field(default_factory=list)  # (relation, mode)
    holding: list[tuple[str, str]] = field(default_factory=list)  # all held after it
    rewrites: list[str] = field(default_factory=list)
    scans: list[str] | None = field(default_factory=list)  # None: not observable
    released: float | None = None  # when its transaction ended
    rows: dict[str, int] = field(default_factory=dict)  # rows per table when it ran
    # The observer's own time (its queries) before the statement and until its release:
    # not part of how long production would hold the locks.
    overhead: float = 0.0
    overhead_released: float = 0.0


class PassObserver:
    """Observes every statement of one apply; records those ``wanted`` says are traced.

    Implements :class:`migration_guard.db.execute.StatementObserver`; the SQLAlchemy bridge
    (:mod:`migration_guard.apply.trace_alembic`) calls the same three methods.
    """

    def __init__(self, conninfo: str, wanted: Callable[[str], bool], *, timezone: str,
                 statement_timeout_s: float) -> None:
        self.conninfo = conninfo
        self.wanted = wanted
        self.timezone = timezone
        self.statement_timeout_s = statement_timeout_s
        self.seen: list[Seen] = []
        self.rows: dict[str, int] = {}  # rows per base table, once they are filled
        self.origin: float | None = None
        self._prepared: set[int] = set()  # connections whose TimeZone is set
        self._baseline: BackendState | None = None
        self._transaction = 0
        self._open: list[Seen] = []  # recorded statements of the open transaction
        self._current: Seen | None = None
        self._sampler: LockSampler | None = None
        self._files_before: dict[int, int] = {}
        self._watcher: psycopg.Connection[Any] | None = None
        self._overhead = 0.0  # seconds spent observing so far

    def export(self) -> tuple[list[Seen], float | None, float]:
        """What this pass saw, to hand to the observer of the same pass in another process
        (alembic runs in a child)."""
        return self.seen, self.origin, self._overhead

    def absorb(self, exported: tuple[list[Seen], float | None, float]) -> None:
        """Take in what an observer of the same pass saw in another process."""
        seen, origin, overhead = exported
        self.seen.extend(seen)
        if origin is not None:
            self.origin = origin if self.origin is None else min(self.origin, origin)
        self._overhead += overhead

    # the StatementObserver protocol

    def before(self, conn: psycopg.Connection[Any], path: str,
               statement: Statement) -> bytes | None:
        """Returns the state query for a statement inside a transaction: sent in the
        statement's own round trip, it costs no extra one."""
        try:
            return self._before(conn, path, statement)
        except psycopg.Error as exc:
            raise _trace_failed(exc, path, statement) from None

    def after(self, conn: psycopg.Connection[Any], path: str, statement: Statement,
              probe: psycopg.Cursor[Any] | None = None) -> None:
        end = time.perf_counter()
        try:
            self._after(conn, end, probe)
        except psycopg.Error as exc:
            raise _trace_failed(exc, path, statement) from None
        self._overhead += time.perf_counter() - end

    def ended(self, conn: psycopg.Connection[Any]) -> None:
        self._close_transaction(time.perf_counter())

    def batch_probe(self, conn: psycopg.Connection[Any]) -> bytes:
        """The state query to send after each statement of a transactional file the
        runner sends in one round trip (and once after its BEGIN)."""
        self._prepare(conn)
        if self._open or self._baseline is not None:
            self._close_transaction(time.perf_counter())
        return STATE_PROBE

    def after_batch(self, conn: psycopg.Connection[Any], path: str,
                    statements: list[Statement], cursor: psycopg.Cursor[Any],
                    sent: float) -> None:
        """Record a transactional file sent as ``BEGIN; probe; s1; probe; ...; COMMIT``
        at ``sent``: the probes' server times give each statement's start and end."""
        probes = _probe_results(cursor)
        if len(probes) != len(statements) + 1:
            raise GuardError(f"the trace read {len(probes)} states for {len(statements)} "
                             f"statements of {path}", "set trace: off for this project")
        self._transaction += 1
        if self.origin is None:
            self.origin = sent
        probing = 0.0  # ms the probes took so far: not part of any lock's time
        (baseline, _began, previous_end) = probes[0]
        probing += previous_end - _began
        recorded: list[Seen] = []
        for statement, (state, began, ended) in zip(statements, probes[1:], strict=True):
            if self.wanted(path):
                seen = Seen(path, statement.line, statement.text.strip(), "transaction",
                            start=sent + previous_end / 1000, end=sent + began / 1000,
                            transaction=self._transaction, rows=self.rows,
                            overhead=probing / 1000)
                _diff_into(seen, conn, baseline, state)
                recorded.append(seen)
            probing += ended - began
            baseline, previous_end = state, ended
        for seen in recorded:
            seen.released = sent + previous_end / 1000
            seen.overhead_released = probing / 1000
        self.seen += recorded

    def close(self) -> None:
        self._close_transaction(time.perf_counter())
        if self._sampler is not None:  # its statement failed
            self._sampler.__exit__(None, None, None)
            self._sampler = None
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    # internals

    def _prepare(self, conn: psycopg.Connection[Any]) -> None:
        if id(conn) not in self._prepared:
            # Production's TimeZone: a timestamp -> timestamptz change rewrites only
            # outside UTC. Not LOCAL: it outlives the open transaction when that commits.
            conn.execute("SELECT set_config('TimeZone', %s, false)", [self.timezone])
            self._prepared.add(id(conn))

    def _before(self, conn: psycopg.Connection[Any], path: str,
                statement: Statement) -> bytes | None:
        if self._sampler is not None:  # the statement before this one failed
            self._sampler.__exit__(None, None, None)
            self._sampler = None
        self._prepare(conn)
        idle = conn.info.transaction_status == _IDLE
        in_transaction = not idle or not conn.autocommit
        if idle and (self._open or self._baseline is not None):
            # The transaction ended without the runner saying so (a driver's own commit,
            # or a statement that failed): its locks are gone.
            self._close_transaction(time.perf_counter())
        mode = "transaction" if in_transaction else "autocommit"
        if in_transaction and self._baseline is None:
            self._baseline = backend_state(conn)
            self._transaction += 1
        elif not in_transaction:
            self._transaction += 1
            self._files_before = backend_state(conn).files
            self._sampler = LockSampler(self._watching(), conn.info.backend_pid)
            self._sampler.__enter__()
        self._current = Seen(path, statement.line, statement.text.strip(), mode,
                             start=0.0, transaction=self._transaction, rows=self.rows) \
            if self.wanted(path) else None
        start = time.perf_counter()
        if self.origin is None:
            self.origin = start
        if self._current is not None:
            self._current.start = start
            self._current.overhead = self._overhead
        return STATE_PROBE if in_transaction else None

    def _after(self, conn: psycopg.Connection[Any], end: float,
               probe: psycopg.Cursor[Any] | None) -> None:
        current, self._current = self._current, None
        if self._sampler is not None:
            self._after_autocommit(conn, current, end)
            return
        if conn.info.transaction_status == _IDLE:  # the statement was COMMIT or ROLLBACK
            self._close_transaction(end)
            return
        elapsed = None
        if probe is not None and probe.nextset():
            state, elapsed, _ended = read_state(probe.fetchall())
        else:
            state = backend_state(conn)
        baseline = self._baseline or BackendState(frozenset(), {}, {})
        self._baseline = state
        if current is None:
            return
        # The server's own time for the statement when the state came in its round trip.
        current.end = end if elapsed is None else current.start + elapsed / 1000
        _diff_into(current, conn, baseline, state)
        self.seen.append(current)
        self._open.append(current)

    def _after_autocommit(self, conn: psycopg.Connection[Any], current: Seen | None,
                          end: float) -> None:
        sampler, self._sampler = self._sampler, None
        assert sampler is not None
        sampler.__exit__(None, None, None)
        if sampler.error is not None:
            raise GuardError(f"the trace's second connection failed: {sampler.error}",
                             "see the server log; or set trace: off for this project")
        if current is None:
            return
        names = table_names(conn, sorted({oid for oid, _mode in sampler.seen}))
        current.end = end
        current.locks = sorted({(names[oid], mode) for oid, mode in sampler.seen
                                if oid in names})
        current.holding = current.locks
        current.rewrites = _rewritten(conn, self._files_before, backend_state(conn).files)
        current.scans = None  # counters of a finished transaction are not readable here
        current.released = end
        self.seen.append(current)

    def _watching(self) -> psycopg.Connection[Any]:
        if self._watcher is None:
            self._watcher = connect(self.conninfo)
            limit = max(1, round(self.statement_timeout_s * 1000))
            self._watcher.execute(f"SET statement_timeout = {limit}; "
                                  f"SET client_min_messages = notice".encode())
        return self._watcher

    def _close_transaction(self, when: float) -> None:
        for seen in self._open:
            seen.released = when
            seen.overhead_released = self._overhead
        self._open = []
        self._baseline = None


def _diff_into(seen: Seen, conn: psycopg.Connection[Any], before: BackendState,
               after: BackendState) -> None:
    """What the statement did between two states of its transaction."""
    seen.locks = sorted((lock.relation, lock.mode) for lock in after.locks - before.locks)
    seen.holding = sorted((lock.relation, lock.mode) for lock in after.locks)
    seen.rewrites = _rewritten(conn, before.files, after.files)
    scanned = [oid for oid, scans in after.scans.items() if scans > before.scans.get(oid, 0)]
    seen.scans = sorted(table_names(conn, scanned).values())


def _probe_results(cursor: psycopg.Cursor[Any]) -> list[tuple[BackendState, float, float]]:
    """The probes' states among the results of ``BEGIN; probe; s1; probe; ...; COMMIT``:
    every second result from the second on (each statement gives exactly one result)."""
    found: list[tuple[BackendState, float, float]] = []
    index = 0
    while True:
        if index % 2 == 1 and cursor.description is not None:
            found.append(read_state(cursor.fetchall()))
        index += 1
        if not cursor.nextset():
            return found


def _rewritten(conn: psycopg.Connection[Any], before: dict[int, int],
               after: dict[int, int]) -> list[str]:
    changed = [oid for oid, node in after.items() if oid in before and before[oid] != node]
    return sorted(table_names(conn, changed).values())


def _trace_failed(exc: psycopg.Error, path: str, statement: Statement) -> GuardError:
    return GuardError(f"the trace could not read the database's state around "
                      f"{path}:{statement.line}: {exc}",
                      "see the server log; or set trace: off for this project")


# -- a whole trace -----------------------------------------------------------------------


def tracer_for(settings: Settings, new_paths: Collection[str],
               is_migration: Callable[[str], bool]) -> Tracer | None:
    """The project's tracer (None for ``trace: off``): of the new migrations, or with
    ``trace: all`` of every migration ``is_migration`` accepts."""
    options = settings.options
    if options.trace == "off":
        return None
    sample = settings.database.sample_rows
    wanted = is_migration if options.trace == "all" else frozenset(new_paths).__contains__
    lint = LintOptions()._replace(**{**dict(settings.lint), **dict(options.lint)})
    return Tracer(TraceSettings(options.trace, sample, options.trace_rows or sample,
                                options.timezone), lint, wanted)


class Tracer:
    """The trace of one project's apply run: one or two passes over the new migrations."""

    def __init__(self, settings: TraceSettings, lint: LintOptions,
                 wanted: Callable[[str], bool]) -> None:
        self.settings = settings
        self.lint = lint
        self.wanted = wanted
        self.sources: dict[str, str] = {}  # path -> SQL text, for the static lint
        self.passes: list[PassObserver] = []

    @property
    def scaled(self) -> bool:
        """Whether a second pass at ``trace_rows`` measures growth."""
        return self.settings.trace_rows > self.settings.sample_rows

    def add_source(self, path: str, text: str) -> None:
        self.sources[path] = text

    def start_pass(self, conninfo: str, *, statement_timeout_s: float) -> PassObserver:
        observer = PassObserver(conninfo, self.wanted, timezone=self.settings.timezone,
                                statement_timeout_s=statement_timeout_s)
        self.passes.append(observer)
        return observer

    def result(self) -> tuple[list[MigrationTrace], list[Finding]]:
        """The traces per migration and the findings they make."""
        from migration_guard.apply.trace_findings import trace_findings

        if not self.passes:
            return [], []
        sample = self.passes[0]
        large = self.passes[1].seen if len(self.passes) > 1 else None
        statements = self._statements(sample, large)
        traces = _by_migration(statements, self.settings)
        return traces, trace_findings(traces)

    def _statements(self, sample: PassObserver,
                    large: list[Seen] | None) -> list[TracedStatement]:
        static = self.static_findings(sample.seen)
        origin = sample.origin or 0.0
        out: list[TracedStatement] = []
        for index, seen in enumerate(sample.seen):
            scaled = _duration(large[index]) if large is not None and index < len(large) \
                and (large[index].path, large[index].line) == (seen.path, seen.line) else None
            later = sum(1 for other in sample.seen[index + 1:]
                        if other.transaction == seen.transaction)
            target = names_in(seen.sql)[:1]
            out.append(TracedStatement(
                seen.path, seen.line, seen.sql, seen.mode, _duration(seen), scaled,
                growth(_duration(seen), scaled),
                tuple(_lock(seen, relation, mode, origin, later, target)
                      for relation, mode in seen.locks),
                tuple(seen.rewrites), ("?",) if seen.scans is None else tuple(seen.scans),
                tuple(_verdicts(static.get(id(seen), []), seen)), _holding(seen)))
        return out

    def static_findings(self, seen: list[Seen]) -> dict[int, list[Finding]]:
        """The static lint's findings on each traced statement (by ``id`` of its record)."""
        out: dict[int, list[Finding]] = {}
        created: set[str] = set()
        by_path: dict[str, list[Seen]] = {}
        for record in seen:
            by_path.setdefault(record.path, []).append(record)
        for path, records in by_path.items():
            if path in self.sources:
                result = lint_sql(self.sources[path], path, options=self.lint,
                                  created_tables=created)
                created |= result.created_tables
                _assign_by_line(result.findings, records, out)
                continue
            for record in records:  # SQL captured as it ran (Alembic): one at a time
                result = lint_sql(record.sql, path, options=self.lint, created_tables=created)
                created |= result.created_tables
                out[id(record)] = [f._replace(line=record.line) for f in result.findings]
        return out

    def close(self) -> None:
        for observer in self.passes:
            observer.close()


def _assign_by_line(findings: list[Finding], records: list[Seen],
                    out: dict[int, list[Finding]]) -> None:
    ordered = sorted(records, key=lambda r: r.line)
    for finding in findings:
        owner = None
        for record in ordered:
            if record.line <= (finding.line or 0):
                owner = record
        if owner is not None:
            out.setdefault(id(owner), []).append(finding)


def _duration(seen: Seen) -> float:
    return max(0.0, (seen.end - seen.start) * 1000)


def _lock(seen: Seen, relation: str, mode: str, origin: float, later: int,
          target: list[str]) -> LockHeld:
    released = seen.released if seen.released is not None else seen.end
    observing = max(0.0, seen.overhead_released - seen.overhead) if seen.released else 0.0
    held = max(released - seen.start - observing, seen.end - seen.start)
    return LockHeld(relation, mode, round((seen.start - origin) * 1000, 3),
                    round(held * 1000, 3), blocked_by(mode),
                    relation in target, later, rows_of(seen.rows, relation))


def _holding(seen: Seen) -> tuple[tuple[str, str, int], ...]:
    best: dict[str, str] = {}
    for relation, mode in seen.holding:
        if strength(mode) > strength(best.get(relation, "")):
            best[relation] = mode
    return tuple((relation, mode, rows_of(seen.rows, relation))
                 for relation, mode in sorted(best.items()))


def names_in(sql: str) -> list[str]:
    """The tables a statement names, its target first, as ``schema.table`` (``public``
    when unqualified); [] when it does not parse."""
    import json

    from pglast import parser

    try:
        tree = json.loads(parser.parse_sql_json(sql))
    except parser.ParseError:
        return []
    found: list[str] = []
    _collect(tree, found)
    return list(dict.fromkeys(found))


def _collect(node: object, found: list[str]) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("relname"), str):
            found.append(f"{node.get('schemaname') or 'public'}.{node['relname']}")
        for value in node.values():
            _collect(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect(item, found)


# What a static lint code predicts, and how the trace confirms it.
_PREDICTS: dict[str, Callable[[Seen], bool]] = {
    "MG301": lambda s: any("writes" in blocked_by(m) for _r, m in s.locks),
    "MG302": lambda s: bool(s.scans) or any("writes" in blocked_by(m) for _r, m in s.locks),
    "MG303": lambda s: bool(s.scans),
    "MG304": lambda s: bool(s.rewrites),
    "MG305": lambda s: bool(s.rewrites),
    "MG306": lambda s: bool(s.rewrites),
    "MG307": lambda s: any("writes" in blocked_by(m) for _r, m in s.locks),
    "MG308": lambda s: bool(s.rewrites),
    "MG309": lambda s: any(blocked_by(m)[:2] for _r, m in s.locks),
}


def _verdicts(static: list[Finding], seen: Seen) -> list[str]:
    out: list[str] = []
    for finding in static:
        check = _PREDICTS.get(finding.code)
        if check is not None:
            out.append(f"{finding.code} {'confirmed' if check(seen) else 'not confirmed'}")
    return sorted(set(out))


def _by_migration(statements: list[TracedStatement],
                  settings: TraceSettings) -> list[MigrationTrace]:
    paths = list(dict.fromkeys(s.path for s in statements))
    return [MigrationTrace(path, tuple(s for s in statements if s.path == path),
                           settings.sample_rows, settings.trace_rows, settings.timezone)
            for path in paths]
