"""dbmate: ``<version>_<name>.sql`` files holding ``-- migrate:up`` and ``-- migrate:down``
sections, in a ``db/migrations``-style directory."""

from __future__ import annotations

import re

from migration_guard.frameworks import Reader, Section
from migration_guard.frameworks.sqldir import PLAIN_DIRECTORY, SqlDirectory, text_of
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:  # a new migration is written rarely: keep detection's imports light
    from migration_guard.frameworks.newfile import Plan, Write


UP_MARKER = "-- migrate:up"
_DOWN_MARKER = b"-- migrate:down"
_MARKER = re.compile(r"^--\s*migrate:(up|down)\b([^\n]*)$", re.MULTILINE)


class Dbmate(SqlDirectory):
    tracking_tables = frozenset({"schema_migrations"})
    detected_by = "-- migrate:up files in a migrations/ directory"
    applied_query = "SELECT version FROM schema_migrations"

    def __init__(self) -> None:
        super().__init__(
            "dbmate", r"(?P<version>\d+)_.+\.sql", "<version>_<name>.sql", "dbmate new <name>",
        )

    def upgrade_sql(self, rel: str, data: bytes) -> bytes | None:
        up, marker, down = data.partition(_DOWN_MARKER)
        # Blank the down section but keep its lines, so line numbers stay true.
        return up + (b"\n" * (marker + down).count(b"\n") if marker else b"")

    def up_section(self, text: str) -> Section | None:
        """The ``-- migrate:up`` section (None if the file has none); ``transaction:false``
        on its marker line runs it outside a transaction."""
        markers = list(_MARKER.finditer(text))
        for index, marker in enumerate(markers):
            if marker.group(1) != "up":
                continue
            end = markers[index + 1].start() if index + 1 < len(markers) else len(text)
            body_start = marker.end() + 1 if marker.end() < len(text) else marker.end()
            options = marker.group(2)
            return Section(text[body_start:end], text.count("\n", 0, body_start) + 1,
                           False if "transaction:false" in options.replace(" ", "") else None)
        return None

    def new_migration(self, plan: Plan) -> list[Write]:
        from migration_guard.frameworks.newfile import Write, next_version, version_style

        style = version_style(plan.versions, "timestamp")
        version = next_version(plan.versions, style, plan.now, 14)
        content = f"{UP_MARKER}\n{plan.up}\n-- migrate:down\n{plan.down}"
        return [Write(plan.at(f"{version}_{plan.slug}.sql"), content)]

    def detect_directory(self, directory: str, names: list[str], read: Reader) -> bool:
        return bool(re.fullmatch(PLAIN_DIRECTORY, directory)) \
            and UP_MARKER in text_of(read, f"{directory}/{sorted(names)[0]}")


FRAMEWORK = Dbmate()
