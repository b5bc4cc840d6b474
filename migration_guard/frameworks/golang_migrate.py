"""golang-migrate: ``<version>_<name>.up.sql`` and ``.down.sql`` pairs; its table records only
the newest version applied."""

from __future__ import annotations

import re

from migration_guard.frameworks import Reader
from migration_guard.frameworks.sqldir import SqlDirectory
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:  # a new migration is written rarely: keep detection's imports light
    from migration_guard.frameworks.newfile import Plan, Write


_NAME = r"\d+_.+\.(?:up|down)\.sql"


class GolangMigrate(SqlDirectory):
    tracking_tables = frozenset({"schema_migrations"})
    detected_by = "a directory of <n>_*.up.sql files"
    applied_query = "SELECT version FROM schema_migrations WHERE NOT dirty"

    def __init__(self) -> None:
        super().__init__(
            "golang-migrate", r"(?P<version>\d+)_.+\.(?P<direction>up|down)\.sql",
            "<version>_<name>.up.sql / <version>_<name>.down.sql",
            "migrate create -ext sql -dir <migrations> <name>",
        )

    def applies(self, rel: str) -> bool:
        return rel.endswith(".up.sql")

    def upgrade_sql(self, rel: str, data: bytes) -> bytes | None:
        return data if self.applies(rel) else None

    def applied(self, recorded: set[str], versions: list[str]) -> set[str]:
        top = max((int(v) for v in recorded), default=-1)
        return {v for v in versions if v.isdigit() and int(v) <= top}

    def new_migration(self, plan: Plan) -> list[Write]:
        from migration_guard.frameworks.newfile import Write, next_version, version_style

        style = version_style(plan.versions, "sequence", unix=True)
        version = next_version(plan.versions, style, plan.now, 6)
        return [Write(plan.at(f"{version}_{plan.slug}.up.sql"), plan.up),
                Write(plan.at(f"{version}_{plan.slug}.down.sql"), plan.down)]

    def detect_directory(self, directory: str, names: list[str], read: Reader) -> bool:
        pairs = sum(n.endswith(("up.sql", "down.sql")) and bool(re.fullmatch(_NAME, n))
                    for n in names)
        return pairs * 2 > len(names)


FRAMEWORK = GolangMigrate()
