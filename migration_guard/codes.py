"""Finding codes: stable forever, one kebab-case name each; and the fast checks' own table.

MG1xx belong to the fast git-aware checks (required, immutable, linear), tabled here; MG2xx
to the database checks (:mod:`migration_guard.apply.codes`); MG3xx to the SQL lint
(:mod:`migration_guard.lint.registry`). Each family keeps its own table in its own module,
built with :func:`table`; :func:`migration_guard.report.codebook.all_codes` joins them for
docs, SARIF and the meta-tests. Nothing here imports a family: the arrows point down.
"""

from __future__ import annotations

from migration_guard.typing_lite import NamedTuple


class Code(NamedTuple):
    code: str
    name: str
    check: str
    summary: str
    #: The default severity of its findings: "error" (fails the run) or "warning".
    severity: str = "error"


def table(check: str, rows: list[tuple[str, str, str]]) -> dict[str, Code]:
    """A family's codes from ``(code, name, summary)`` rows, all of one check."""
    return {code: Code(code, name, check, summary) for code, name, summary in rows}


GIT_CODES: dict[str, Code] = {
    **table("required", [
        ("MG101", "schema-change-without-migration",
         "a schema source changed and no migration was added"),
    ]),
    **table("immutable", [
        ("MG102", "merged-migration-edited", "a migration present on the base was modified"),
        ("MG103", "merged-migration-deleted",
         "a migration present on the base was deleted or renamed"),
        ("MG104", "merged-migration-mode-changed",
         "a migration present on the base changed file mode or type"),
    ]),
    **table("linear", [
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
         "a journal entry names a migration file that is missing"),
        ("MG120", "file-not-in-journal", "a migration file is not in the journal"),
        ("MG121", "journal-invalid",
         "the journal is missing or is not valid JSON of the known shape"),
        ("MG122", "migration-not-text",
         "a migration is binary, a Git LFS pointer, a symlink or a submodule"),
        ("MG123", "merge-conflict-markers", "a migration contains merge conflict markers"),
        ("MG124", "alembic-merge-revision",
         "an Alembic revision merges two or more, under strict linear history"),
        ("MG125", "alembic-branch-point",
         "an Alembic revision with two or more children, under strict linear history"),
        ("MG126", "snapshot-chain-broken",
         "a new schema snapshot's prevId is not the id of the snapshot before it"),
    ]),
}
