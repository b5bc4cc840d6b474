"""The files of the repository's ``templates/`` directory, shipped in the wheel as the
``migration_guard.templates`` package: read here for ``init`` and ``new``.

Every template starts with one comment line saying where it goes; :func:`body` drops it
when a command writes the rest into a user's file.
"""

from __future__ import annotations

from importlib import resources

from migration_guard.errors import GuardError

CONFIG = "migration-guard.yaml"
PRE_COMMIT = "pre-commit-config.yaml"
GITHUB_WORKFLOW = "github-workflow.yml"
GITLAB_CI = "gitlab-ci.yml"
SQL_MIGRATION = "sql/migration.sql"
SQL_MIGRATION_DOWN = "sql/migration.down.sql"
SQL_CREATE_TABLE = "sql/create_table.sql"
SQL_CREATE_TABLE_DOWN = "sql/create_table.down.sql"


def read(name: str) -> str:
    """A template's text (``name`` relative to ``templates/``, ``/``-separated)."""
    node = resources.files("migration_guard.templates")
    for part in name.split("/"):
        node = node.joinpath(part)
    try:
        return node.read_text(encoding="utf-8")
    except OSError:
        raise GuardError(f"template {name} is missing from this installation of "
                         "migration-guard", "reinstall migration-guard") from None


def body(text: str) -> str:
    """The template without its first line (the comment saying where the file goes)."""
    first, _, rest = text.partition("\n")
    return rest if first.startswith(("#", "--")) else text
