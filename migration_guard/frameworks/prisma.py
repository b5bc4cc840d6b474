"""Prisma: one directory per migration, ``<timestamp>_<name>/migration.sql``, beside
``schema.prisma``."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from migration_guard.frameworks import Found, Reader
from migration_guard.frameworks.sqldir import SqlDirectory, join
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:  # a new migration is written rarely: keep detection's imports light
    from migration_guard.frameworks.newfile import Plan, Write



class Prisma(SqlDirectory):
    tracking_tables = frozenset({"_prisma_migrations"})
    markers = (".prisma",)
    detected_by = "schema.prisma or migrations/<timestamp>_<name>/migration.sql"
    applied_query = ("SELECT migration_name FROM _prisma_migrations "
                     "WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL")

    def __init__(self) -> None:
        super().__init__(
            "prisma", r"(?P<version>\d{14})_[^/]+/migration\.sql",
            "<14-digit timestamp>_<name>/migration.sql",
            "npx prisma migrate dev --name <name>",
        )
        self.claims_directories = True

    def _name(self, rel: str) -> str | None:
        return rel if rel.count("/") == 1 else None

    def recorded_version(self, rel: str) -> str:
        return rel.split("/")[0]  # the migration's directory name

    def new_migration(self, plan: Plan) -> list[Write]:
        from migration_guard.frameworks.newfile import Write, next_version

        version = next_version(plan.versions, "timestamp", plan.now, 14)
        return [Write(plan.at(f"{version}_{plan.slug}/migration.sql"), plan.up)]

    def detect(self, paths: list[str], read: Reader, *,
               every: Sequence[str] = ()) -> list[Found]:
        dirs: set[str] = set()
        # The cheap suffix tests first: most of a large repository's .sql files are not
        # Prisma's.
        for path in paths:
            match = re.fullmatch(r"(?:(.*)/)?migrations/\d{14}_[^/]+/migration\.sql", path) \
                if path.endswith("/migration.sql") else None
            if match:
                dirs.add(join(match.group(1) or "", "migrations"))
        for path in paths:
            if path == "schema.prisma" or path.endswith("/schema.prisma"):
                dirs.add(join(posixpath.dirname(path), "migrations"))
        present = set(paths)
        found = []
        for migrations in sorted(dirs):
            parent = posixpath.dirname(migrations)
            schema = tuple(g for g in (join(parent, "schema.prisma"),
                                       join(parent, "schema/*.prisma"))
                           if g in present or g.endswith("*.prisma"))
            found.append(Found(migrations, schema, f"Prisma schema in {parent or '.'}/",
                               posixpath.dirname(parent)))
        return found


FRAMEWORK = Prisma()
