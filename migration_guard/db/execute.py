"""Running a migration's SQL against a throwaway database, reporting the statement that fails.

A file runs in one transaction unless it holds a statement PostgreSQL refuses inside one
(``CREATE INDEX CONCURRENTLY``, ``VACUUM``, ...) or manages transactions itself; then its
statements run one by one in autocommit. Statements are split with pglast so a failure is
reported at its own line (pglast slices are character offsets into the text).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterable
from typing import Any, Protocol

import psycopg
from pglast import parser

from migration_guard.db.redact import redact_url
from migration_guard.db.remote import connect
from migration_guard.errors import GuardError
from migration_guard.typing_lite import NamedTuple

DEFAULT_STATEMENT_TIMEOUT_S = 300.0
DEFAULT_LOCK_TIMEOUT_S = 60.0

# Cheap pre-filter: only files mentioning one of these words are parsed for tx mode.
_MAYBE_NON_TX = re.compile(
    r"\b(concurrently|vacuum|database|system|tablespace|subscription|value|begin|commit|"
    r"rollback|start|end|abort|cluster|reindex|savepoint|release|prepare)\b", re.IGNORECASE)
_IDLE = psycopg.pq.TransactionStatus.IDLE
_META_COMMAND = re.compile(r"^[ \t]*(\\[A-Za-z!?][^\n]*)", re.MULTILINE)
_NON_TX_NODES = frozenset({
    "VacuumStmt", "CreatedbStmt", "DropdbStmt", "AlterSystemStmt", "CreateTableSpaceStmt",
    "DropTableSpaceStmt", "CreateSubscriptionStmt", "DropSubscriptionStmt",
    "AlterSubscriptionStmt", "TransactionStmt",
})


class RunLimit(NamedTuple):
    """The whole run's limit: its length and its end (``time.monotonic()``)."""

    seconds: float
    end: float


class Statement(NamedTuple):
    text: str
    line: int  # 1-based line in the migration file


#: Why a statement did not apply: rejected by PostgreSQL, over a timeout, a psql
#: meta-command only psql runs, or stopped at the whole run's limit. The apply check gives
#: each its finding code; this layer only says what happened.
FAILED = "failed"
TIMED_OUT = "timed-out"
META_COMMAND = "meta-command"
RUN_LIMIT = "run-limit"


class Failure(NamedTuple):
    """A statement that did not apply, located at its file and line."""

    kind: str  # FAILED, TIMED_OUT, META_COMMAND or RUN_LIMIT
    path: str
    line: int | None
    message: str
    hint: str


class StatementObserver(Protocol):
    """Watches each statement as it runs (the trace): called on the running connection
    just before and after it, and when the runner ends a transaction it opened.

    ``before`` may return SQL for the runner to send right after the statement in the same
    round trip; the runner then hands ``after`` the cursor (its next result is that SQL's).
    """

    def before(self, conn: psycopg.Connection[Any], path: str,
               statement: Statement) -> bytes | None:
        ...

    def after(self, conn: psycopg.Connection[Any], path: str, statement: Statement,
              probe: psycopg.Cursor[Any] | None = None) -> None:
        ...

    def ended(self, conn: psycopg.Connection[Any]) -> None:
        ...

    def batch_probe(self, conn: psycopg.Connection[Any]) -> bytes | None:
        """SQL to send after BEGIN and after each statement of a transactional file the
        runner sends whole in one round trip; None: send statement by statement."""
        ...

    def after_batch(self, conn: psycopg.Connection[Any], path: str,
                    statements: list[Statement], cursor: psycopg.Cursor[Any],
                    sent: float) -> None:
        """The file's batch committed; ``cursor`` holds every result, ``sent`` is the
        ``time.perf_counter()`` when it was sent."""
        ...


class Chunk(NamedTuple):
    """A piece of a migration file with the file line it starts on."""

    text: str
    start_line: int


class Session:
    """One connection to a throwaway database with bounded waits; reused across files."""

    def __init__(self, conninfo: str, *, statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
                 lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
                 connect_timeout_s: float = 10.0, run_limit: RunLimit | None = None) -> None:
        self.conn = connect(conninfo, connect_timeout_s=connect_timeout_s)
        self.timeouts: tuple[float, float] = (0.0, 0.0)
        self.version = self.conn.info.server_version
        self.set_timeouts(statement_timeout_s, lock_timeout_s)
        self.run_limit = run_limit
        self.expired = False
        self._watchdog: threading.Timer | None = None
        if run_limit is not None:
            self._arm(run_limit)

    def _arm(self, run_limit: RunLimit) -> None:
        """Cancel whatever runs when the whole-run limit passes: a migration may lift
        ``statement_timeout`` itself (``SET statement_timeout = 0``)."""
        self._watchdog = threading.Timer(max(0.0, run_limit.end - time.monotonic()),
                                         self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _expire(self) -> None:
        self.expired = True
        with contextlib.suppress(psycopg.Error):
            self.conn.cancel_safe()

    def set_timeouts(self, statement_timeout_s: float, lock_timeout_s: float) -> None:
        if (statement_timeout_s, lock_timeout_s) == self.timeouts:
            return
        idle_ms = max(_ms(statement_timeout_s), 60_000)
        self.conn.execute(
            f"SET statement_timeout = {_ms(statement_timeout_s)}; "
            f"SET lock_timeout = {_ms(lock_timeout_s)}; "
            f"SET idle_in_transaction_session_timeout = {idle_ms}".encode())
        self.timeouts = (statement_timeout_s, lock_timeout_s)

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        self.conn.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def apply_sql(session: Session, sql_text: str, *, path: str, start_line: int = 1,
              statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
              lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
              transactional: bool | None = None,
              observer: StatementObserver | None = None) -> list[Failure]:
    """Apply ``sql_text`` (which starts at ``start_line`` of ``path``); [] when it applied.

    ``transactional=None`` decides from the statements; ``True``/``False`` forces the mode
    (dbmate's ``transaction:false``, a framework's own setting). With an ``observer``,
    statements run one at a time and it sees each. Raises GuardError when the server
    itself fails (connection lost), never for a fault of the migration.
    """
    statements, trouble = split_statements(sql_text, start_line)
    if trouble is not None:
        return [trouble._replace(path=path)]
    if not statements:
        return []
    if transactional is None:
        transactional = runs_in_transaction(sql_text, statements, server_version=session.version)
    session.set_timeouts(statement_timeout_s, lock_timeout_s)
    return _run(session, statements, path=path, transactional=transactional, observer=observer)


def apply_chunks(session: Session, chunks: Iterable[Chunk], *, path: str,
                 statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
                 lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
                 transactional: bool | None = None,
                 observer: StatementObserver | None = None) -> list[Failure]:
    """Apply pre-split chunks of one file (Drizzle breakpoints) as one unit."""
    statements: list[Statement] = []
    texts: list[str] = []
    for chunk in chunks:
        found, trouble = split_statements(chunk.text, chunk.start_line)
        if trouble is not None:
            return [trouble._replace(path=path)]
        statements += found
        texts.append(chunk.text)
    if not statements:
        return []
    if transactional is None:
        transactional = runs_in_transaction("\n".join(texts), statements,
                                            server_version=session.version)
    session.set_timeouts(statement_timeout_s, lock_timeout_s)
    return _run(session, statements, path=path, transactional=transactional, observer=observer)


def apply_files_in_one_transaction(
        session: Session, files: Iterable[tuple[str, list[Chunk]]], *,
        statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
        observer: StatementObserver | None = None) -> list[Failure]:
    """Apply several files in one transaction, as a runner that wraps every pending
    migration in one does: a statement PostgreSQL refuses in a transaction block fails
    here at its file and line, as it fails at deploy; any failure rolls back them all.
    ``observer`` (the trace) sees every statement, and the one transaction end."""
    planned: list[tuple[str, Statement]] = []
    for path, chunks in files:
        for chunk in chunks:
            found, trouble = split_statements(chunk.text, chunk.start_line)
            if trouble is not None:
                return [trouble._replace(path=path)]
            planned += [(path, s) for s in found]
    if not planned:
        return []
    session.set_timeouts(statement_timeout_s, lock_timeout_s)
    conn = session.conn
    path, current = planned[0]
    try:
        conn.execute(b"BEGIN")
        for path, current in planned:
            probe = observer.before(conn, path, current) if observer is not None else None
            text = current.text.encode()
            cursor = conn.execute(text + b"\n;\n" + probe if probe else text)
            if observer is not None:
                observer.after(conn, path, current, cursor if probe else None)
        conn.execute(b"COMMIT")
        if observer is not None:
            observer.ended(conn)
    except psycopg.Error as exc:
        if exc.sqlstate is None or conn.closed:
            raise _server_lost(exc, path, current) from None
        return [_failure(exc, path, current, session)]
    finally:
        _rollback(session)
    return []


# -- splitting ---------------------------------------------------------------------------


def split_statements(sql_text: str, start_line: int = 1) -> tuple[list[Statement], Failure | None]:
    """Statements with their file lines, or a finding for a psql meta-command.

    When pglast cannot parse the text (a newer or older server's syntax), its scanner still
    splits it and the server gets the final word on the syntax.
    """
    if _has_raw_bytes(sql_text):  # not UTF-8: the server is to see it whole, as it is
        return [Statement(sql_text, start_line)], None
    try:
        slices = parser.split(sql_text, with_parser=True, only_slices=True)
    except parser.ParseError:
        meta = _META_COMMAND.search(sql_text)
        if meta is not None:
            return [], _meta_finding(sql_text, meta, start_line)
        slices = _scanner_split(sql_text)
    return _with_lines(sql_text, slices, start_line), None


def _has_raw_bytes(text: str) -> bool:
    """Whether ``text`` carries bytes that were not UTF-8 (kept as surrogates)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _first_raw_byte(text: str) -> int:
    return next(i for i, char in enumerate(text) if "\udc80" <= char <= "\udcff")


def _wire(text: str) -> bytes:
    """The bytes to send: the file's own, including any that are not UTF-8."""
    return text.encode("utf-8", "surrogateescape")


def _scanner_split(sql_text: str) -> tuple[slice, ...]:
    """Split on top-level semicolons using only the scanner (strings, comments and
    dollar quotes respected); token offsets are characters, ``end`` inclusive."""
    try:
        tokens = parser.scan(sql_text)
    except parser.ParseError:
        return (slice(0, len(sql_text)),) if sql_text.strip() else ()
    slices: list[slice] = []
    start: int | None = None
    for token in tokens:
        if token.name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        if token.name == "ASCII_59":
            if start is not None:
                slices.append(slice(start, token.start))
            start = None
        elif start is None:
            start = token.start
    if start is not None:
        slices.append(slice(start, len(sql_text)))
    return tuple(slices)


def _with_lines(sql_text: str, slices: Iterable[slice], start_line: int) -> list[Statement]:
    statements: list[Statement] = []
    line, pos = start_line, 0
    for piece in slices:
        line += sql_text.count("\n", pos, piece.start)
        pos = piece.start
        statements.append(Statement(sql_text[piece], line))
    return statements


def _meta_finding(sql_text: str, meta: re.Match[str], start_line: int) -> Failure:
    line = start_line + sql_text.count("\n", 0, meta.start(1))
    command = meta.group(1).split()[0]
    return Failure(
        META_COMMAND, "", line,
        f"psql meta-command {command} cannot be applied: only psql understands it",
        "replace it with plain SQL, or run this file with psql and check it another way")


def split_on(text: str, marker: str) -> list[Chunk]:
    """Split a migration on a framework's statement-breakpoint line, lines kept true."""
    chunks: list[Chunk] = []
    line = 1
    for part in text.split(marker):
        chunks.append(Chunk(part, line))
        line += part.count("\n")
    return chunks


# -- transaction mode --------------------------------------------------------------------


def runs_in_transaction(sql_text: str, statements: list[Statement], *,
                        server_version: int) -> bool:
    """``False`` when a statement cannot run inside a transaction block (or manages one)."""
    if not _MAYBE_NON_TX.search(sql_text):
        return True
    for statement in statements:
        try:
            parsed = json.loads(parser.parse_sql_json(statement.text))
        except (parser.ParseError, UnicodeError):
            continue
        for raw in parsed.get("stmts", []):
            if _refuses_transaction(raw.get("stmt", {}), server_version):
                return False
    return True


def _refuses_transaction(node: dict[str, Any], server_version: int) -> bool:
    if not node:
        return False
    kind, body = next(iter(node.items()))
    if kind in _NON_TX_NODES:
        return kind != "VacuumStmt" or bool(body.get("is_vacuumcmd"))
    if kind in ("IndexStmt", "DropStmt"):
        return bool(body.get("concurrent"))
    if kind == "ReindexStmt":
        return _reindex_refuses(body)
    if kind == "AlterEnumStmt":
        return server_version < 120000 and not body.get("oldVal")
    if kind == "ClusterStmt":
        return "relation" not in body
    if kind == "AlterTableStmt":
        return any(cmd.get("AlterTableCmd", {}).get("subtype") == "AT_DetachPartition"
                   and "concurrent" in json.dumps(cmd) for cmd in body.get("cmds", []))
    return False


def _reindex_refuses(body: dict[str, Any]) -> bool:
    if body.get("kind") in ("REINDEX_OBJECT_SYSTEM", "REINDEX_OBJECT_DATABASE"):
        return True
    return any(param.get("DefElem", {}).get("defname") == "concurrently"
               for param in body.get("params", []))


# -- running -----------------------------------------------------------------------------


def _run(session: Session, statements: list[Statement], *, path: str,
         transactional: bool, observer: StatementObserver | None = None) -> list[Failure]:
    """Transactional files go in one round trip (``BEGIN; ...; COMMIT``); if that fails,
    a diagnostic statement-by-statement re-run, always rolled back, finds the statement
    to blame (a timeout is then waited for a second time)."""
    if observer is not None:
        return _run_observed(session, statements, path=path, transactional=transactional,
                             observer=observer)
    if not transactional:
        return _run_stepwise(session, statements, path=path, transactional=False)
    batch = "BEGIN;\n" + ";\n".join(s.text for s in statements) + ";\nCOMMIT"
    try:
        session.conn.execute(_wire(batch))
    except psycopg.Error as exc:
        if exc.sqlstate is None or session.conn.closed:
            raise _server_lost(exc, path, statements[0]) from None
        _rollback(session)
        if session.expired:  # a diagnostic re-run would only wait again
            return [_run_limit_finding(session, path, None, "")]
        located = _run_stepwise(session, statements, path=path, transactional=True,
                                diagnose=True)
        return located or [_failure(exc, path, statements[0], session, position=False)]
    return []


def _run_stepwise(session: Session, statements: list[Statement], *, path: str,
                  transactional: bool, diagnose: bool = False) -> list[Failure]:
    conn = session.conn
    current = statements[0]
    try:
        if transactional:
            conn.execute(b"BEGIN")
        for current in statements:
            conn.execute(_wire(current.text))
        if transactional:
            conn.execute(b"ROLLBACK" if diagnose else b"COMMIT")
    except psycopg.Error as exc:
        if exc.sqlstate is None or conn.closed:
            raise _server_lost(exc, path, current) from None
        return [_failure(exc, path, current, session)]
    finally:
        _rollback(session)
    return []


def _run_observed(session: Session, statements: list[Statement], *, path: str,
                  transactional: bool, observer: StatementObserver) -> list[Failure]:
    """One statement at a time, each seen by ``observer``. Outside a transactional file,
    a statement that may run in a transaction block gets one of its own: alone in it, it
    commits exactly as in autocommit, and its own backend can still be asked what it holds.
    """
    conn = session.conn
    if transactional and _run_observed_batch(session, statements, path=path, observer=observer):
        return []
    current = statements[0]
    try:
        if transactional:
            conn.execute(b"BEGIN")
        for current in statements:
            own = (not transactional and conn.info.transaction_status == _IDLE
                   and runs_in_transaction(current.text, [current],
                                           server_version=session.version))
            if own:
                conn.execute(b"BEGIN")
            probe = observer.before(conn, path, current)
            text = current.text.encode()
            cursor = conn.execute(text + b"\n;\n" + probe if probe else text)
            observer.after(conn, path, current, cursor if probe else None)
            if own:
                conn.execute(b"COMMIT")
                observer.ended(conn)
        if transactional:
            conn.execute(b"COMMIT")
            observer.ended(conn)
    except psycopg.Error as exc:
        if exc.sqlstate is None or conn.closed:
            raise _server_lost(exc, path, current) from None
        return [_failure(exc, path, current, session)]
    finally:
        _rollback(session)
    return []


def _run_observed_batch(session: Session, statements: list[Statement], *, path: str,
                        observer: StatementObserver) -> bool:
    """A transactional file in one round trip as unobserved (the observer's probe after
    each statement); False when it failed, to be run again statement by statement (which
    finds the statement to blame)."""
    conn = session.conn
    probe = observer.batch_probe(conn)
    if probe is None:
        return False
    batch = b"BEGIN;\n" + probe + b";\n" + b"".join(
        s.text.encode() + b"\n;\n" + probe + b";\n" for s in statements) + b"COMMIT"
    sent = time.perf_counter()
    try:
        cursor = conn.execute(batch)
    except psycopg.Error as exc:
        if exc.sqlstate is None or conn.closed:
            raise _server_lost(exc, path, statements[0]) from None
        _rollback(session)
        return False
    observer.after_batch(conn, path, statements, cursor, sent)
    return True


def _rollback(session: Session) -> None:
    conn = session.conn
    if not conn.closed and conn.info.transaction_status != 0:
        conn.execute(b"ROLLBACK")


def _server_lost(exc: psycopg.Error, path: str, statement: Statement) -> GuardError:
    return GuardError(
        redact_url(f"lost the database connection while applying {path}:{statement.line}: "
                   f"{exc}"),
        hint="see the server log; a crash here is a server or extension fault",
    )


def _failure(exc: psycopg.Error, path: str, statement: Statement, session: Session, *,
             position: bool = True) -> Failure:
    diag = exc.diag
    primary = diag.message_primary or str(exc).strip()
    line = statement.line
    if position:
        line += _newlines_before(statement.text, diag.statement_position)
    if exc.sqlstate == "57014" and session.expired:
        return _run_limit_finding(session, path, line, _first_line(statement.text))
    if exc.sqlstate == "22021" and _has_raw_bytes(statement.text):
        line = statement.line + statement.text[:_first_raw_byte(statement.text)].count("\n")
    timeout = _timeout_kind(exc.sqlstate, primary)
    if timeout is not None:
        limit = session.timeouts[0] if timeout == "statement_timeout" else session.timeouts[1]
        return Failure(
            TIMED_OUT, path, line,
            f"statement hit {timeout} ({limit:g} s): {_first_line(statement.text)}",
            f"make the statement finish within {limit:g} s, or raise the {timeout} setting "
            "for this migration")
    details = "".join(f"; {label}: {value}" for label, value in (
        ("detail", diag.message_detail), ("where", diag.context)) if value)
    return Failure(
        FAILED, path, line,
        redact_url(f"migration failed to apply: {primary} [SQLSTATE {exc.sqlstate}]{details}"),
        redact_url(diag.message_hint or "fix the statement so that it applies on top of the "
                   "migrations before it"))


def _run_limit_finding(session: Session, path: str, line: int | None,
                       statement: str) -> Failure:
    limit = session.run_limit.seconds if session.run_limit is not None else 0.0
    return Failure(
        RUN_LIMIT, path, line,
        f"stopped: the whole run exceeded its limit of {limit:g} s (cancelled from the "
        f"client side)" + (f": {statement}" if statement else ""),
        "make the migrations faster, or raise database.run_timeout in the config")


def _newlines_before(text: str, position: str | None) -> int:
    """Lines to add for the server's 1-based character ``position`` inside ``text``."""
    if not position or not position.isdigit():
        return 0
    return text.count("\n", 0, int(position) - 1)


def _timeout_kind(sqlstate: str | None, primary: str) -> str | None:
    if sqlstate == "57014" and "statement timeout" in primary:
        return "statement_timeout"
    if sqlstate == "55P03" and "lock timeout" in primary:
        return "lock_timeout"
    return None


def _first_line(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
