"""Applying SQL migrations with each runner's transaction semantics, within the bounds.

A framework with a statement breakpoint has its files split on it; one with sections
contributes its up section (its "no transaction" marker honoured); plain SQL runs whole
files. A file runs in one transaction unless it holds a statement PostgreSQL
refuses inside one; the first failing file stops the run (later ones would only cascade).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Collection, Iterator

from migration_guard.apply.settings import Deadline
from migration_guard.apply.sources import Unit
from migration_guard.config import DatabaseConfig
from migration_guard.db.base import Database, Server
from migration_guard.db.execute import (
    FAILED,
    META_COMMAND,
    RUN_LIMIT,
    TIMED_OUT,
    Chunk,
    Failure,
    RunLimit,
    Session,
    StatementObserver,
    apply_chunks,
    apply_files_in_one_transaction,
    apply_sql,
    split_on,
)
from migration_guard.findings import Finding
from migration_guard.frameworks import Framework, Section

CHECK = "apply"


def open_session(conninfo: str, database: DatabaseConfig,
                 deadline: Deadline | None = None) -> Session:
    return Session(conninfo, statement_timeout_s=database.statement_timeout,
                   lock_timeout_s=database.lock_timeout,
                   connect_timeout_s=database.connect_timeout,
                   run_limit=None if deadline is None else RunLimit(deadline.seconds,
                                                                    deadline.end))


def run_timeout_finding(path: str, deadline: Deadline) -> Finding:
    return Finding(
        "MG208", path, None,
        f"not applied: the whole run exceeded its limit of {deadline.seconds:g} s",
        "make the migrations faster, or raise database.run_timeout in the config",
        check=CHECK)


def apply_units(session: Session, units: list[Unit], framework: Framework | None,
                database: DatabaseConfig, deadline: Deadline,
                observer: StatementObserver | None = None, *,
                one_transaction: bool = False) -> list[Finding]:
    """Apply ``units`` in order; the findings of the first file that fails (with
    ``one_transaction``, all of them in one transaction, as the framework's runner does).
    ``observer`` (the trace) sees every statement."""
    if one_transaction:
        return _apply_in_one_transaction(session, units, framework, database, deadline,
                                         observer)
    for unit in units:
        if deadline.expired():
            return [run_timeout_finding(unit.path, deadline)]
        findings = apply_unit(session, unit, framework, database, deadline, observer)
        if findings:
            return findings
    return []


def apply_unit(session: Session, unit: Unit, framework: Framework | None,
               database: DatabaseConfig, deadline: Deadline,
               observer: StatementObserver | None = None) -> list[Finding]:
    """Apply one file as ``framework``'s runner does (None: a plain SQL file, whole)."""
    statement_s = deadline.statement_timeout(database.statement_timeout)
    lock_s = min(database.lock_timeout, statement_s)
    if framework is not None and framework.statement_breakpoint:
        return findings_of(apply_chunks(
            session, split_on(unit.text, framework.statement_breakpoint), path=unit.path,
            statement_timeout_s=statement_s, lock_timeout_s=lock_s, observer=observer))
    up = framework.up_section(unit.text) if framework is not None \
        else Section(unit.text, 1, None)
    if up is None:
        return []
    return findings_of(apply_sql(
        session, up.text, path=unit.path, start_line=up.start_line,
        transactional=up.transactional, statement_timeout_s=statement_s,
        lock_timeout_s=lock_s, observer=observer))


def _apply_in_one_transaction(session: Session, units: list[Unit], framework: Framework | None,
                              database: DatabaseConfig, deadline: Deadline,
                              observer: StatementObserver | None) -> list[Finding]:
    if not units:
        return []
    if deadline.expired():
        return [run_timeout_finding(units[0].path, deadline)]
    statement_s = deadline.statement_timeout(database.statement_timeout)
    return findings_of(apply_files_in_one_transaction(
        session, ((u.path, _chunks(framework, u)) for u in units),
        statement_timeout_s=statement_s, lock_timeout_s=min(database.lock_timeout, statement_s),
        observer=observer))


#: The finding code of each way a statement can fail to apply (the database layer says
#: what happened; the codes are the apply check's).
_CODES = {FAILED: "MG201", TIMED_OUT: "MG202", META_COMMAND: "MG203", RUN_LIMIT: "MG208"}


def findings_of(failures: list[Failure]) -> list[Finding]:
    """The apply check's findings for statements that did not apply."""
    return [Finding(_CODES[f.kind], f.path, f.line, f.message, f.hint, check=CHECK)
            for f in failures]


def _chunks(framework: Framework | None, unit: Unit) -> list[Chunk]:
    """The pieces of a file the runner sends one by one, with the line each starts on."""
    if framework is not None and framework.statement_breakpoint:
        return split_on(unit.text, framework.statement_breakpoint)
    up = framework.up_section(unit.text) if framework is not None \
        else Section(unit.text, 1, None)
    return [] if up is None else [Chunk(up.text, up.start_line)]


@contextlib.contextmanager
def throwaway(server: Server, template: str | None = None, *,
              last_use: bool = False) -> Iterator[Database]:
    """A database of our own for the duration of the block (cloned from ``template``; or,
    with ``last_use``, the template itself: no copy is made, and none can be made later)."""
    if template is not None and last_use:
        database = server.claim(template)
    else:
        database = server.create_database(template=template)
    try:
        yield database
    finally:
        server.drop_database(database)


def build_template(server: Server, setup: Callable[[Database], list[Finding]]
                   ) -> tuple[str | None, list[Finding]]:
    """The cached "base applied" template, built by ``setup`` when the cache has none."""
    if server.snapshot_template is not None:
        return server.snapshot_template, []
    database = server.create_database()
    try:
        findings = setup(database)
    except BaseException:
        server.drop_database(database)
        raise
    if findings:
        server.drop_database(database)
        return None, findings
    return server.save_snapshot(database), []


def apply_in(conninfo: str, units: list[Unit], framework: Framework | None,
             database: DatabaseConfig, deadline: Deadline,
             observer: StatementObserver | None = None, *,
             one_transaction: bool = False) -> list[Finding]:
    with open_session(conninfo, database, deadline) as session:
        return apply_units(session, units, framework, database, deadline, observer,
                           one_transaction=one_transaction)


def fill_rows(conninfo: str, database: DatabaseConfig,
              only_tables: Collection[str] | None = None, *,
              rows: int | None = None) -> dict[str, int]:
    """Sample rows (``rows``, else ``database.sample_rows`` per table); rows per table."""
    from migration_guard.db.sample_data import fill_sample_rows
    from migration_guard.frameworks import bookkeeping

    with open_session(conninfo, database) as session:
        return fill_sample_rows(session.conn, rows=database.sample_rows if rows is None else rows,
                                skip_tables=bookkeeping()[0], only_tables=only_tables)


def vacuum(conninfo: str, database: DatabaseConfig) -> None:
    """VACUUM ANALYZE after a large fill: the tables are then as production keeps them
    (visibility map set, statistics current), and autovacuum does not wake up in the
    middle of a timed statement."""
    with open_session(conninfo, database) as session:
        session.conn.execute(b"VACUUM ANALYZE")


def tables_named(units: list[Unit]) -> set[str] | None:
    """Every table name the SQL of ``units`` mentions; None when some SQL does not parse
    (then every table is filled)."""
    from pglast import parser

    names: set[str] = set()
    for unit in units:
        try:
            tree = json.loads(parser.parse_sql_json(unit.text))
        except (parser.ParseError, UnicodeError):
            return None
        _collect_relnames(tree, names)
    return names


def _collect_relnames(node: object, names: set[str]) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("relname"), str):  # a RangeVar, wrapped or not
            names.add(node["relname"])
        for value in node.values():
            _collect_relnames(value, names)
    elif isinstance(node, list):
        for item in node:
            _collect_relnames(item, names)
