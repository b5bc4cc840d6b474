"""The registry of finding codes: stable forever, one kebab-case name each.

MG1xx belong to the fast git-aware checks (required, immutable, linear); MG2xx to the
database checks (apply, drift); MG3xx to the SQL lint. Each family keeps its own table in
its own module; :func:`all_codes` joins them for docs, SARIF and the meta-tests.
"""

# Annotations are evaluated, not postponed (no `from __future__ import annotations`):
# typing.NamedTuple compiles each string annotation, ~3 ms of every hook run.

from typing import NamedTuple


class Code(NamedTuple):
    code: str
    name: str
    check: str
    summary: str
    #: The default severity of its findings: "error" (fails the run) or "warning".
    severity: str = "error"


def _table(check: str, rows: list[tuple[str, str, str]]) -> dict[str, Code]:
    return {code: Code(code, name, check, summary) for code, name, summary in rows}


GIT_CODES: dict[str, Code] = {
    **_table("required", [
        ("MG101", "schema-change-without-migration",
         "a schema source changed and no migration was added"),
    ]),
    **_table("immutable", [
        ("MG102", "merged-migration-edited", "a migration present on the base was modified"),
        ("MG103", "merged-migration-deleted",
         "a migration present on the base was deleted or renamed"),
        ("MG104", "merged-migration-mode-changed",
         "a migration present on the base changed file mode or type"),
    ]),
    **_table("linear", [
        ("MG110", "migration-out-of-order",
         "a new migration sorts before the newest migration on the base"),
        ("MG111", "migration-name-invalid",
         "a file in a migrations directory does not match the framework's name pattern"),
        ("MG112", "duplicate-migration-version", "two migrations share one version"),
        ("MG113", "multiple-alembic-heads", "the Alembic revision graph has more than one head"),
        ("MG114", "revision-off-base-head",
         "a new Alembic revision does not descend from the base's head"),
        ("MG115", "revision-parent-missing",
         "an Alembic revision names a down_revision that does not exist"),
        ("MG116", "revision-cycle", "the Alembic revision graph has a cycle"),
        ("MG117", "duplicate-revision-id", "two Alembic revision files declare the same id"),
        ("MG118", "revision-unreadable",
         "an Alembic revision file cannot be parsed or names no revision id"),
        ("MG119", "journal-entry-without-file",
         "the Drizzle journal lists a migration whose file is missing"),
        ("MG120", "file-not-in-journal", "a Drizzle migration file is not in the journal"),
        ("MG121", "journal-invalid", "the Drizzle journal is not valid JSON of the known shape"),
        ("MG122", "migration-not-text",
         "a migration is binary, a Git LFS pointer, a symlink or a submodule"),
        ("MG123", "merge-conflict-markers", "a migration contains merge conflict markers"),
    ]),
}


def all_codes() -> dict[str, Code]:
    """Every registered code, across families (imports the lint and database tables)."""
    from migration_guard.db.codes import CODES as DATABASE_CODES
    from migration_guard.lint.registry import CODES as LINT_CODES

    return {**GIT_CODES, **DATABASE_CODES, **LINT_CODES}
