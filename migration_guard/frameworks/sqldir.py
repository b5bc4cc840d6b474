"""SQL-directory frameworks: supabase, flyway, prisma, dbmate, golang-migrate, plain sql.

They differ only in how a file name carries its version, so one class with a regex per
preset serves them all. Each regex is compiled on first use: a hook needs one or two.
"""

from __future__ import annotations

import re

from migration_guard.frameworks import Framework, Version

_NON_DIGIT = re.compile(r"[^0-9]")


class SqlDirectory(Framework):
    def __init__(
        self,
        name: str,
        pattern: str,
        pattern_text: str,
        generate_command: str,
        *,
        recursive: bool = False,
    ) -> None:
        self.name = name
        self._source = pattern
        self._compiled: re.Pattern[str] | None = None
        self.pattern_text = pattern_text
        self.generate_command = generate_command
        self._recursive = recursive

    @property
    def _pattern(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._source, re.DOTALL)
        return self._compiled

    def _name(self, rel: str) -> str | None:
        if self._recursive:
            return rel.rsplit("/", 1)[-1]
        return None if "/" in rel else rel

    def looks_like_migration(self, rel: str) -> bool:
        name = self._name(rel)
        return name is not None and name.endswith(".sql")

    def version(self, rel: str) -> Version | None:
        name = self._name(rel)
        match = self._pattern.fullmatch(name) if name is not None else None
        if match is None:
            return None
        text = match.group("version")
        digits = text if text.isascii() and text.isdigit() else _NON_DIGIT.sub("", text) or "0"
        return Version((int(digits),), text)

    def is_migration(self, rel: str) -> bool:
        name = self._name(rel)  # the name's pattern alone: no Version to build
        return name is not None and self._pattern.fullmatch(name) is not None

    def migration_version(self, rel: str) -> Version | None:
        return self.version(rel)  # every file with a version is a migration here

    def version_group(self, rel: str) -> str:
        if "direction" not in self._pattern.groupindex:
            return ""
        match = self._pattern.fullmatch(self._name(rel) or "")
        return match.group("direction") if match is not None else ""


class Flyway(SqlDirectory):
    """Flyway: ``V<version>__<desc>.sql`` ordered, ``U`` undo, ``R__`` repeatable (exempt)."""

    _versioned = re.compile(r"(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__.+\.sql", re.DOTALL)
    _repeatable = re.compile(r"R__.+\.sql", re.DOTALL)

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


class Prisma(SqlDirectory):
    """Prisma keeps one directory per migration: ``<timestamp>_<name>/migration.sql``."""

    def __init__(self) -> None:
        super().__init__(
            "prisma", r"(?P<version>\d{14})_[^/]+/migration\.sql",
            "<14-digit timestamp>_<name>/migration.sql",
            "npx prisma migrate dev --name <name>",
        )

    def _name(self, rel: str) -> str | None:
        return rel if rel.count("/") == 1 else None


PRESETS: dict[str, SqlDirectory] = {
    "supabase": SqlDirectory(
        "supabase", r"(?P<version>\d{14})_.+\.sql", "<14-digit timestamp>_<name>.sql",
        "supabase db diff -f <name> (declarative schemas) or supabase migration new <name>",
    ),
    "prisma": Prisma(),
    "dbmate": SqlDirectory(
        "dbmate", r"(?P<version>\d+)_.+\.sql", "<version>_<name>.sql", "dbmate new <name>",
    ),
    "golang-migrate": SqlDirectory(
        "golang-migrate", r"(?P<version>\d+)_.+\.(?P<direction>up|down)\.sql",
        "<version>_<name>.up.sql / <version>_<name>.down.sql",
        "migrate create -ext sql -dir <migrations> <name>",
    ),
    "flyway": Flyway(),
    "sql": SqlDirectory(
        "sql", r"(?P<version>\d+)(?:[_.-].*)?\.sql", "<number>_<description>.sql",
        "add a new numbered .sql file to the migrations directory (migration-guard new NAME)",
    ),
}

