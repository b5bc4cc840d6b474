"""Reading what a backend holds: its relation locks, table file nodes and scan counters.

Infrastructure for the trace (:mod:`migration_guard.apply.trace`): plain queries, no
judgement. Only user relations are read (oids from 16384 up: PostgreSQL's own catalogs,
which every query touches, are below); locks on indexes and TOAST tables are left out.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg

from migration_guard.typing_lite import NamedTuple

FIRST_USER_OID = 16384
_TABLE_KINDS = ("r", "p", "m", "f")

# One round trip after each statement, on the statement's own backend (so relations
# created in its open transaction are visible): its locks, and per table the file node and
# the sequential scans of the open transaction (what pg_stat_xact_user_tables.seq_scan
# shows, read without that view's joins).
_STATE = """
SELECT 0, 0::bigint, '', 0::bigint, 0::bigint,
       (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::text
UNION ALL
SELECT 1, l.relation::bigint, l.mode, 0::bigint, 0::bigint,
       n.nspname || '.' || c.relname
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
   AND l.relation >= 16384 AND c.relkind IN ('r', 'p', 'm', 'f')
UNION ALL
SELECT 2, c.oid::bigint, '', c.relfilenode::bigint, pg_stat_get_xact_numscans(c.oid), ''
  FROM pg_class c WHERE c.oid >= 16384 AND c.relkind IN ('r', 'm')
UNION ALL
SELECT 3, 0::bigint, '', 0::bigint, 0::bigint,
       (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::text
"""
#: The same, to send right after a statement in its round trip: its first and last rows
#: say when (in ms since the server received the round trip's message) it began and ended.
STATE_PROBE = _STATE.encode()

_NAMES = """
SELECT c.oid::bigint, n.nspname || '.' || c.relname,
       (SELECT pn.nspname || '.' || p.relname FROM pg_inherits i
          JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
         WHERE i.inhrelid = c.oid AND p.relkind = 'p' LIMIT 1), c.relkind::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid = ANY(%s)
"""



class Lock(NamedTuple):
    oid: int
    mode: str
    relation: str  # schema.name; the oid as text when the observer could not see it


class BackendState(NamedTuple):
    """What one backend holds and has done in its current transaction."""

    locks: frozenset[Lock]
    files: dict[int, int]  # table oid -> relfilenode
    scans: dict[int, int]  # table oid -> sequential scans in this transaction


def backend_state(conn: psycopg.Connection[Any]) -> BackendState:
    return read_state(conn.execute(_STATE, prepare=True).fetchall())[0]


def read_state(rows: list[tuple[Any, ...]]) -> tuple[BackendState, float, float]:
    """The state in the rows of :data:`STATE_PROBE`, and when (ms into the server's
    handling of the message) the probe began and ended."""
    locks: set[Lock] = set()
    files: dict[int, int] = {}
    scans: dict[int, int] = {}
    began = ended = 0.0
    for kind, oid, mode, node, scanned, name in rows:
        if kind == 0:
            began = float(name)
        elif kind == 3:
            ended = float(name)
        elif kind == 1:
            locks.add(Lock(oid, mode, name))
        else:
            files[oid] = node
            if scanned:
                scans[oid] = scanned
    return BackendState(frozenset(locks), files, scans), began, ended


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

    The sampling loop runs inside the server (a ``DO`` block on a second connection), so
    it keeps up with a statement of a few milliseconds however busy the client is; it
    commits after every sample and so never holds a snapshot open (an open one would make
    ``CREATE INDEX CONCURRENTLY`` wait for it), reports each new (relation, mode) as a
    notice, and ends by itself once the backend it watches has gone idle again.
    """

    def __init__(self, conn: psycopg.Connection[Any], pid: int) -> None:
        self.conn = conn
        self.pid = pid
        self.seen: dict[tuple[int, str], float] = {}  # (oid, mode) -> first seen
        self.error: BaseException | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mg-lock-sampler", daemon=True)

    def __enter__(self) -> LockSampler:
        """Start sampling; returns once the loop runs (so the statement run next is
        sampled from its first moment)."""
        self.conn.add_notice_handler(self._notice)
        self._thread.start()
        self._started.wait(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(timeout=60)
        self.conn.remove_notice_handler(self._notice)

    def _notice(self, diagnostic: psycopg.errors.Diagnostic) -> None:
        text = diagnostic.message_primary or ""
        if text == _STARTED:
            self._started.set()
        elif text.startswith(_LOCK):
            oid, _, mode = text.removeprefix(_LOCK).partition(",")
            self.seen.setdefault((int(oid), mode), time.perf_counter())

    def _run(self) -> None:
        try:
            self.conn.execute(_SAMPLE_LOOP.replace("{pid}", str(int(self.pid))).encode())
        except psycopg.Error as exc:  # reported by the tracer, never swallowed
            self.error = exc
        finally:
            self._started.set()


_STARTED = "mg-sampler-started"
_LOCK = "mg-lock "
_SAMPLE_LOOP = """
DO $mg$
DECLARE
  started timestamptz := clock_timestamp();
  seen text[] := '{}';
  r record;
BEGIN
  RAISE NOTICE 'mg-sampler-started';
  LOOP
    FOR r IN SELECT relation::bigint::text || ',' || mode AS lock FROM pg_locks
              WHERE pid = {pid} AND locktype = 'relation' AND granted
                AND relation >= 16384 LOOP
      IF NOT r.lock = ANY (seen) THEN
        seen := seen || r.lock;
        RAISE NOTICE 'mg-lock %', r.lock;
      END IF;
    END LOOP;
    COMMIT;
    EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = {pid}
                          AND (state = 'active' OR state_change <= started));
  END LOOP;
END
$mg$
"""
