"""Applying SQL migrations with each runner's transaction semantics, within the bounds.

Drizzle files split on ``--> statement-breakpoint``, dbmate files contribute their
``-- migrate:up`` section (``transaction:false`` honoured), every other flavour runs
whole files. A file runs in one transaction unless it holds a statement PostgreSQL
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
    RunLimit,
    Session,
    apply_chunks,
    apply_sql,
    dbmate_up_section,
    split_drizzle,
)
from migration_guard.findings import Finding

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


def apply_units(session: Session, units: list[Unit], framework: str, database: DatabaseConfig,
                deadline: Deadline) -> list[Finding]:
    """Apply ``units`` in order; the findings of the first file that fails."""
    for unit in units:
        if deadline.expired():
            return [run_timeout_finding(unit.path, deadline)]
        findings = apply_unit(session, unit, framework, database, deadline)
        if findings:
            return findings
    return []


def apply_unit(session: Session, unit: Unit, framework: str, database: DatabaseConfig,
               deadline: Deadline) -> list[Finding]:
    statement_s = deadline.statement_timeout(database.statement_timeout)
    lock_s = min(database.lock_timeout, statement_s)
    if framework == "drizzle":
        return apply_chunks(session, split_drizzle(unit.text), path=unit.path,
                            statement_timeout_s=statement_s, lock_timeout_s=lock_s)
    if framework == "dbmate":
        up = dbmate_up_section(unit.text)
        if up is None:
            return []
        return apply_sql(session, up.text, path=unit.path, start_line=up.start_line,
                         transactional=None if up.transactional else False,
                         statement_timeout_s=statement_s, lock_timeout_s=lock_s)
    return apply_sql(session, unit.text, path=unit.path, statement_timeout_s=statement_s,
                     lock_timeout_s=lock_s)


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


def apply_in(conninfo: str, units: list[Unit], framework: str, database: DatabaseConfig,
             deadline: Deadline) -> list[Finding]:
    with open_session(conninfo, database, deadline) as session:
        return apply_units(session, units, framework, database, deadline)


def fill_rows(conninfo: str, database: DatabaseConfig,
              only_tables: Collection[str] | None = None) -> dict[str, int]:
    from migration_guard.apply.catalog import TRACKING_TABLES
    from migration_guard.db.sample_data import fill_sample_rows

    with open_session(conninfo, database) as session:
        return fill_sample_rows(session.conn, rows=database.sample_rows,
                                skip_tables=TRACKING_TABLES, only_tables=only_tables)


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
