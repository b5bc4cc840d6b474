"""Reading what a backend holds: its relation locks, table file nodes and scan counters.

Infrastructure for the trace (:mod:`migration_guard.apply.trace`): plain queries, no
judgement. Only user relations are read (oids from 16384 up: PostgreSQL's own catalogs,
which every query touches, are below); locks on indexes and TOAST tables are left out.
"""

from __future__ import annotations

import threading
import time
from typing import Any, NamedTuple

import psycopg

FIRST_USER_OID = 16384
_TABLE_KINDS = ("r", "p", "m", "f")

# One round trip after each statement, on the statement's own backend (so relations
# created in its open transaction are visible).
_STATE = """
SELECT 'lock', l.relation::bigint, l.mode, 0::bigint, n.nspname || '.' || c.relname
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
   AND l.relation >= 16384 AND c.relkind IN ('r', 'p', 'm', 'f')
UNION ALL
SELECT 'file', c.oid::bigint, '', c.relfilenode::bigint, ''
  FROM pg_class c WHERE c.oid >= 16384 AND c.relkind IN ('r', 'm')
UNION ALL
SELECT 'scan', s.relid::bigint, '', s.seq_scan, s.schemaname || '.' || s.relname
  FROM pg_stat_xact_user_tables s WHERE s.seq_scan > 0
"""

_NAMES = """
SELECT c.oid::bigint, n.nspname || '.' || c.relname,
       (SELECT pn.nspname || '.' || p.relname FROM pg_inherits i
          JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
         WHERE i.inhrelid = c.oid AND p.relkind = 'p' LIMIT 1), c.relkind::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid = ANY(%s)
"""

_PID_LOCKS = ("SELECT relation::bigint, mode FROM pg_locks WHERE pid = %s "
              "AND locktype = 'relation' AND granted AND relation >= 16384")


class Lock(NamedTuple):
    oid: int
    mode: str
    relation: str  # schema.name; the oid as text when the observer could not see it


class BackendState(NamedTuple):
    """What one backend holds and has done in its current transaction."""

    locks: frozenset[Lock]
    files: dict[int, int]  # table oid -> relfilenode
    scans: dict[str, int]  # schema.table -> sequential scans in this transaction


def backend_state(conn: psycopg.Connection[Any]) -> BackendState:
    locks: set[Lock] = set()
    files: dict[int, int] = {}
    scans: dict[str, int] = {}
    for kind, oid, mode, number, name in conn.execute(_STATE).fetchall():
        if kind == "lock":
            locks.add(Lock(oid, mode, name))
        elif kind == "file":
            files[oid] = number
        else:
            scans[name] = number
    return BackendState(frozenset(locks), files, scans)


def table_names(conn: psycopg.Connection[Any], oids: list[int]) -> dict[int, str]:
    """``schema.table`` of each oid that is a table; a partition as
    ``parent (partition schema.part)``."""
    if not oids:
        return {}
    rows = conn.execute(_NAMES, [oids]).fetchall()
    return {oid: f"{parent} (partition {name})" if parent else name
            for oid, name, parent, kind in rows if kind in _TABLE_KINDS}


class LockSampler:
    """Samples the relation locks of another backend while it runs one statement.

    Its connection is in autocommit and never holds a transaction open: an open snapshot
    here would make ``CREATE INDEX CONCURRENTLY`` wait for it.
    """

    def __init__(self, conn: psycopg.Connection[Any], pid: int, *,
                 interval_s: float = 0.0005) -> None:
        self.conn = conn
        self.pid = pid
        self.interval_s = interval_s
        self.seen: dict[tuple[int, str], float] = {}  # (oid, mode) -> first seen
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mg-lock-sampler", daemon=True)

    def __enter__(self) -> LockSampler:
        """Start sampling; returns once the first sample is in (so a fast statement run
        next is sampled while it runs, not only after)."""
        self._thread.start()
        self._started.wait(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                now = time.perf_counter()
                for oid, mode in self.conn.execute(_PID_LOCKS, [self.pid]).fetchall():
                    self.seen.setdefault((oid, mode), now)
                self._started.set()
                self._stop.wait(self.interval_s)
        except psycopg.Error as exc:  # reported by the tracer, never swallowed
            self.error = exc
        finally:
            self._started.set()
