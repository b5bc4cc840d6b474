"""The upgrade path as production sees it: base migrations, sample rows, then the new ones.

A new migration that applies on an empty database can still fail on real rows
(``ADD COLUMN ... NOT NULL`` without a default, a cast that fails on stored values, a
new unique constraint over duplicates); those failures are reported as MG207.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from migration_guard.apply.runner import fill_rows, throwaway, vacuum
from migration_guard.config import DatabaseConfig
from migration_guard.db.base import Database, Server
from migration_guard.db.execute import StatementObserver
from migration_guard.findings import Finding

if TYPE_CHECKING:
    from migration_guard.apply.trace import Tracer

#: Applies migrations to a database, each statement seen by the observer when one is given.
ApplyTo = Callable[[Database, StatementObserver | None], list[Finding]]

UPGRADE_PATH_HINT = ("this migration applies on an empty database but not on one with rows: "
                     "give new NOT NULL columns a default (or backfill first), make casts "
                     "handle existing values")


_GENERIC_HINT = ("fix the statement so that it applies", "fix the migration so that it applies")


def as_upgrade_path_finding(finding: Finding, rows: int) -> Finding:
    """Restate an apply failure as a failure on the base's schema filled with rows."""
    if finding.code not in ("MG201",):
        return finding
    return finding._replace(
        code="MG207",
        message=f"fails on the base's schema with {rows} sample rows per table: "
                + finding.message.removeprefix("migration failed to apply: "),
        hint=UPGRADE_PATH_HINT if finding.hint.startswith(_GENERIC_HINT) else finding.hint)


def run_upgrade_path(server: Server, template: str | None, database: DatabaseConfig,
                     build_base: ApplyTo | None, apply_new: ApplyTo, *,
                     only_tables: Collection[str] | None = None,
                     last_use: bool = False, tracer: Tracer | None = None) -> list[Finding]:
    """Clone the base state (``template``, or build it with ``build_base``), fill it with
    sample rows (only ``only_tables`` and what they reference, when given), apply the new
    migrations; their failures as MG207 findings. ``last_use``: the run needs no further
    clone of ``template``, so it is used itself.

    With a ``tracer``, each statement is observed; when its ``trace_rows`` exceed the
    sample size, a second clone filled with that many rows is traced too (growth)."""
    sizes = [database.sample_rows]
    if tracer is not None and tracer.scaled:
        sizes.append(tracer.settings.trace_rows)
    for index, rows in enumerate(sizes):
        last = last_use and index == len(sizes) - 1
        with throwaway(server, template, last_use=last) as db:
            findings = _one_pass(db, database, build_base, apply_new, only_tables, rows, tracer)
        if findings:
            return findings
    return []


def _one_pass(db: Database, database: DatabaseConfig, build_base: ApplyTo | None,
              apply_new: ApplyTo, only_tables: Collection[str] | None, rows: int,
              tracer: Tracer | None) -> list[Finding]:
    observer = None
    if tracer is not None:
        observer = tracer.start_pass(db.conninfo, statement_timeout_s=database.statement_timeout)
    try:
        tracing_base = tracer is not None and tracer.settings.mode == "all"
        if build_base is not None and build_base(db, observer if tracing_base else None):
            return []  # the base itself does not apply: reported by the from-empty run
        filled = fill_rows(db.conninfo, database, only_tables, rows=rows)
        if observer is not None:
            observer.rows = filled
            if rows > database.sample_rows:
                vacuum(db.conninfo, database)
        return [as_upgrade_path_finding(f, rows) for f in apply_new(db, observer)]
    finally:
        if observer is not None:
            observer.close()  # its second connection, before the database is dropped
