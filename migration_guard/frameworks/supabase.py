"""Supabase: ``supabase/migrations/<14-digit timestamp>_<name>.sql``, declarative schemas in
``supabase/schemas/``, and the schemas the platform owns."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from migration_guard.frameworks import Found, Reader
from migration_guard.frameworks.sqldir import SqlDirectory, join
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:  # a new migration is written rarely: keep detection's imports light
    from migration_guard.frameworks.newfile import Plan, Write


_LAYOUT = r"(?:(.*)/)?supabase/(?:migrations/[^/]+\.sql|config\.toml)$"


class Supabase(SqlDirectory):
    tracking_schemas = frozenset({"supabase_migrations"})
    declarative_schema = True
    markers = ("supabase/config.toml",)
    detected_by = "supabase/migrations/*.sql or supabase/config.toml"
    platform_schemas = ("auth", "storage", "realtime", "_realtime", "extensions", "graphql",
                        "graphql_public", "vault", "pgsodium", "pgsodium_masks", "net",
                        "supabase_functions", "pgbouncer", "cron")
    applied_query = "SELECT version FROM supabase_migrations.schema_migrations"

    def __init__(self) -> None:
        super().__init__(
            "supabase", r"(?P<version>\d{14})_.+\.sql", "<14-digit timestamp>_<name>.sql",
            "supabase db diff -f <name> (declarative schemas) or supabase migration new <name>",
        )
        self.claims_directories = True

    def new_migration(self, plan: Plan) -> list[Write]:
        from migration_guard.frameworks.newfile import Write, next_version

        version = next_version(plan.versions, "timestamp", plan.now, 14)
        return [Write(plan.at(f"{version}_{plan.slug}.sql"), plan.up)]

    def detect(self, paths: list[str], read: Reader, *,
               every: Sequence[str] = ()) -> list[Found]:
        roots = set()
        for path in paths:
            match = re.match(_LAYOUT, path) if "supabase/" in path else None
            if match:
                roots.add(join(match.group(1) or "", "supabase"))
        found = []
        for root in sorted(roots):
            schemas_dir = join(root, "schemas")
            has_schemas = any(p.startswith(schemas_dir + "/") and p.endswith(".sql")
                              for p in paths)
            found.append(Found(
                join(root, "migrations"),
                (f"{schemas_dir}/**/*.sql",) if has_schemas else (),
                f"declarative schemas in {schemas_dir}/" if has_schemas
                else "no supabase/schemas/",
                posixpath.dirname(root)))
        return found


FRAMEWORK = Supabase()
