"""Finding codes of the database checks (MG2xx): migrations applied to a throwaway database."""

from __future__ import annotations

from migration_guard.codes import Code


def _apply(code: str, name: str, summary: str) -> tuple[str, Code]:
    return code, Code(code, name, "apply", summary)


CODES: dict[str, Code] = dict([
    _apply("MG201", "migration-failed-to-apply",
           "PostgreSQL rejected a statement of the migration"),
    _apply("MG202", "migration-timed-out",
           "a statement of the migration hit statement_timeout or lock_timeout"),
    _apply("MG203", "psql-meta-command",
           "the migration contains a psql meta-command (\\set, \\i, ...) that only psql runs"),
    _apply("MG204", "downgrade-failed",
           "an Alembic downgrade raised, or the upgrade after it failed"),
    _apply("MG205", "downgrade-left-schema",
           "the schema after a downgrade differs from the schema before the upgrade"),
    _apply("MG206", "drift-detected",
           "the migrated schema differs from the models or the declarative schema"),
    _apply("MG207", "upgrade-path-failed",
           "a new migration fails on the base's schema filled with sample rows"),
    _apply("MG208", "apply-run-timed-out",
           "applying the migrations took longer than the whole-run limit"),
    # The trace (verified lint): what a new migration's statements did on the upgrade path.
    _apply("MG240", "traced-blocking-lock",
           "a statement took a lock that blocks reads or writes on a table with rows"),
    _apply("MG241", "traced-table-rewrite", "a statement rewrote a table with rows"),
    _apply("MG242", "traced-lock-held-across-statements",
           "a blocking lock was held through later statements of the same transaction"),
    _apply("MG243", "traced-table-scan",
           "a schema change scanned a table with rows under a lock that blocks writes"),
    _apply("MG244", "traced-lock-on-other-table",
           "a statement locked a table it does not alter (a foreign key's partner)"),
])
