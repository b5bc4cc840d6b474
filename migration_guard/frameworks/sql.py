"""Plain SQL: numbered ``.sql`` files in a ``migrations``-style directory, applied in order by
whatever runner the team has (``psql``, a script)."""

from __future__ import annotations

import re

from migration_guard.frameworks import Reader
from migration_guard.frameworks.sqldir import PLAIN_DIRECTORY, SqlDirectory
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:  # a new migration is written rarely: keep detection's imports light
    from migration_guard.frameworks.newfile import Plan, Write



class PlainSql(SqlDirectory):
    detected_by = "numbered .sql files in migrations/, migrate/ or schema_migrations/"

    def __init__(self) -> None:
        super().__init__(
            "sql", r"(?P<version>\d+)(?:[_.-].*)?\.sql", "<number>_<description>.sql",
            "add a new numbered .sql file to the migrations directory (migration-guard new NAME)",
        )

    def new_migration(self, plan: Plan) -> list[Write]:
        from migration_guard.frameworks.newfile import Write, next_version, version_style

        style = version_style(plan.versions, "sequence")
        version = next_version(plan.versions, style, plan.now, 4)
        return [Write(plan.at(f"{version}_{plan.slug}.sql"), plan.up)]

    def detect_directory(self, directory: str, names: list[str], read: Reader) -> bool:
        return bool(re.fullmatch(PLAIN_DIRECTORY, directory))


FRAMEWORK = PlainSql()
