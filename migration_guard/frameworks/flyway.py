"""Flyway: ``V<version>__<desc>.sql`` ordered, ``U`` undo, ``R__`` repeatable (exempt from
immutability), in a directory and its subdirectories."""

from __future__ import annotations

import re

from migration_guard.frameworks import Reader, Version
from migration_guard.frameworks.sqldir import SqlDirectory
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:  # a new migration is written rarely: keep detection's imports light
    from migration_guard.frameworks.newfile import Plan, Write


_NAME = r"(?:[VU]\d+(?:[._]\d+)*|R)__.+\.sql"


class Flyway(SqlDirectory):
    _versioned = re.compile(r"(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__.+\.sql", re.DOTALL)
    _repeatable = re.compile(r"R__.+\.sql", re.DOTALL)
    tracking_tables = frozenset({"flyway_schema_history"})
    detected_by = "a directory of V<n>__*.sql files"
    applied_query = ("SELECT version FROM flyway_schema_history "
                     "WHERE success AND version IS NOT NULL")

    def __init__(self) -> None:
        super().__init__(
            "flyway", r"", "V<version>__<description>.sql (or R__<description>.sql)",
            "create V<next version>__<description>.sql in the migrations directory",
            recursive=True,
        )

    def is_repeatable(self, rel: str) -> bool:
        return bool(self._repeatable.fullmatch(rel.rsplit("/", 1)[-1]))

    def is_migration(self, rel: str) -> bool:
        return self.version(rel) is not None and not self.is_repeatable(rel)

    def migration_version(self, rel: str) -> Version | None:
        version = self.version(rel)
        return None if version is None or version.text == "R" else version

    def version(self, rel: str) -> Version | None:
        name = rel.rsplit("/", 1)[-1]
        match = self._versioned.fullmatch(name)
        if match is None:
            if self._repeatable.fullmatch(name):
                return Version((), "R")
            return None
        parts = re.split(r"[._]", match.group("version"))
        return Version(tuple(int(p) for p in parts), match.group("version").replace("_", "."))

    def version_group(self, rel: str) -> str:
        return rel.rsplit("/", 1)[-1][:1]

    def applies(self, rel: str) -> bool:
        return not rel.rsplit("/", 1)[-1].startswith("U")  # undo files run only on undo

    def upgrade_sql(self, rel: str, data: bytes) -> bytes | None:
        return data if self.applies(rel) else None

    def new_migration(self, plan: Plan) -> list[Write]:
        from migration_guard.frameworks.newfile import Write, next_version, version_style

        style = version_style(plan.versions, "sequence")
        version = next_version(plan.versions, style, plan.now, 1)
        return [Write(plan.at(f"V{version}__{plan.slug}.sql"), plan.up)]

    def detect_directory(self, directory: str, names: list[str], read: Reader) -> bool:
        return any(n.startswith(("V", "U", "R")) and re.fullmatch(_NAME, n) for n in names)


FRAMEWORK = Flyway()
