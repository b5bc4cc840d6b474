"""The upgrade path as production sees it: base migrations, sample rows, then the new ones.

A new migration that applies on an empty database can still fail on real rows
(``ADD COLUMN ... NOT NULL`` without a default, a cast that fails on stored values, a
new unique constraint over duplicates); those failures are reported as MG207.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from migration_guard.apply.runner import fill_rows, throwaway
from migration_guard.config import DatabaseConfig
from migration_guard.db.base import Database, Server
from migration_guard.findings import Finding

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
                     build_base: Callable[[Database], list[Finding]] | None,
                     apply_new: Callable[[Database], list[Finding]], *,
                     only_tables: Collection[str] | None = None,
                     last_use: bool = False) -> list[Finding]:
    """Clone the base state (``template``, or build it with ``build_base``), fill it with
    sample rows (only ``only_tables`` and what they reference, when given), apply the new
    migrations; their failures as MG207 findings. ``last_use``: the run needs no further
    clone of ``template``, so it is used itself."""
    with throwaway(server, template, last_use=last_use) as db:
        if build_base is not None and build_base(db):
            return []  # the base itself does not apply: reported by the from-empty run
        fill_rows(db.conninfo, database, only_tables)
        return [as_upgrade_path_finding(f, database.sample_rows) for f in apply_new(db)]
