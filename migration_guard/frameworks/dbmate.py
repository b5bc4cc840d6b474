"""dbmate: ``<version>_<name>.sql`` files holding ``-- migrate:up`` and ``-- migrate:down``
sections, in a ``db/migrations``-style directory."""

from __future__ import annotations

import re

from migration_guard.frameworks import Reader
from migration_guard.frameworks.sqldir import PLAIN_DIRECTORY, SqlDirectory, text_of

UP_MARKER = "-- migrate:up"
_DOWN_MARKER = b"-- migrate:down"


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

    def detect_directory(self, directory: str, names: list[str], read: Reader) -> bool:
        return bool(re.fullmatch(PLAIN_DIRECTORY, directory)) \
            and UP_MARKER in text_of(read, f"{directory}/{sorted(names)[0]}")


FRAMEWORK = Dbmate()
