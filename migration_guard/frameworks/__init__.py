"""Migration frameworks behind one interface: which files are migrations, how they sort.

Each framework module provides a :class:`Framework`; :func:`get` returns one by name.
The SQL-directory flavours share one implementation with presets (``sqldir``); Alembic
and Drizzle add their own graph and journal checks (``alembic``, ``drizzle``).
"""

# Annotations are evaluated, not postponed (no `from __future__ import annotations`):
# typing.NamedTuple compiles each string annotation, ~3 ms of every hook run.

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from migration_guard.changeset import ChangeSet
    from migration_guard.findings import Finding, Outcome
    from migration_guard.projects import Project


class Version(NamedTuple):
    """Where a migration sorts (``key``) and how its version reads (``text``)."""

    key: tuple[int | str, ...]
    text: str


class Framework:
    """Naming and ordering rules of one migration framework.

    Paths given to these methods are relative to the project's migrations directory.
    """

    name: str = ""
    pattern_text: str = ""  # the naming pattern, as the user reads it in a message
    ordered: bool = True  # new migrations must sort after the base's newest
    generate_command: str = ""
    #: The framework's runner applies every pending migration in one transaction.
    one_transaction_per_run: bool = False

    def looks_like_migration(self, rel: str) -> bool:
        """A file that wants to be a migration (its name is then checked)."""
        return rel.endswith(".sql")

    def is_migration(self, rel: str) -> bool:
        """A file whose content is protected once merged."""
        return self.version(rel) is not None

    def migration_version(self, rel: str) -> Version | None:
        """``version(rel)`` when the file is a migration, else None (for loops over many)."""
        version = self.version(rel)
        return version if version is not None and self.is_migration(rel) else None

    def is_repeatable(self, rel: str) -> bool:
        """A migration meant to be edited in place (Flyway's ``R__``)."""
        return False

    def version(self, rel: str) -> Version | None:
        """The version in the file's name; None when the name does not match the pattern."""
        raise NotImplementedError

    def version_group(self, rel: str) -> str:
        """Files with the same version and the same group are duplicates."""
        return ""

    def chunks(self, text: str) -> "list[tuple[str, int]]":
        """The pieces the runner executes one by one, with the line each starts on."""
        return [(text, 1)]

    def rehint(self, findings: "list[Finding]") -> "list[Finding]":
        """Lint findings with hints this framework's users can follow."""
        return findings

    def immutable_extras(self, project: "Project", changeset: "ChangeSet",
                         check: str) -> "list[Finding]":
        """Findings for merged files besides the migrations (a journal, snapshots)."""
        return []

    def prove_required(self, project: "Project", changeset: "ChangeSet",
                       findings: "list[Finding]") -> "Outcome | None":
        """The framework's generator judging what the fast ``required`` rule found (None:
        no generator; the fast rule's findings stand)."""
        return None

    def declared_schema(self, project: "Project",
                        changeset: "ChangeSet") -> "tuple[str, str] | None":
        """``(path, SQL)`` of the schema the project's own source declares, for drift
        (None: the framework has none; a GuardError when it has one but cannot print it)."""
        return None

    def applied_paths(self, conn: Any, project: "Project",
                      changes: "ChangeSet") -> "set[str] | None":
        """The migration paths a live database records as applied (None: not known here)."""
        return None

    def write_status(self, conn: Any, project: "Project", changes: "ChangeSet",
                     out: Any) -> bool:
        """Write the project's applied/pending status when the framework reads its own
        bookkeeping; False leaves it to the generic version query."""
        return False


def runs_in_one_transaction(fw: Framework, runner: str) -> bool:
    """All pending migrations run in one transaction: the framework's own runner does so,
    and the config's ``runner`` does not say the SQL is applied per file instead."""
    return fw.one_transaction_per_run and runner == "framework"


def get(name: str) -> Framework:
    if name == "alembic":
        from migration_guard.frameworks.alembic import ALEMBIC

        return ALEMBIC
    if name == "drizzle":
        from migration_guard.frameworks.drizzle import DRIZZLE

        return DRIZZLE
    from migration_guard.frameworks.sqldir import PRESETS

    return PRESETS[name]
