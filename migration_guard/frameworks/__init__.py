"""Migration frameworks behind one interface: which files are migrations, how they sort.

Each framework module provides a :class:`Framework`; :func:`get` returns one by name.
The SQL-directory flavours share one implementation with presets (``sqldir``); Alembic
and Drizzle add their own graph and journal checks (``alembic``, ``drizzle``).
"""

# Annotations are evaluated, not postponed (no `from __future__ import annotations`):
# typing.NamedTuple compiles each string annotation, ~3 ms of every hook run.

from typing import NamedTuple

#: Frameworks whose server-side setup the apply check can provide (``postgres.preset``).
SERVER_PRESETS = ("supabase",)


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


def get(name: str) -> Framework:
    if name == "alembic":
        from migration_guard.frameworks.alembic import ALEMBIC

        return ALEMBIC
    if name == "drizzle":
        from migration_guard.frameworks.drizzle import DRIZZLE

        return DRIZZLE
    from migration_guard.frameworks.sqldir import PRESETS

    return PRESETS[name]
