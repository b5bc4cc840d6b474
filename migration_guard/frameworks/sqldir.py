"""What the SQL-directory frameworks share: a directory of ``.sql`` files whose names carry
their versions, one regular expression per framework (compiled on first use: a hook needs
one or two).
"""

from __future__ import annotations

import posixpath
import re

from migration_guard.frameworks import Framework, Reader, Version

_NON_DIGIT = re.compile(r"[^0-9]")


#: Directory names that hold plain migration files (dbmate's and others' convention).
PLAIN_DIRECTORY = r"(?:.*/)?(?:migrations?|migrate|schema_migrations)"


def join(*parts: str) -> str:
    """Repository-relative join, normalised ("" for the top)."""
    joined = posixpath.normpath(posixpath.join(*[p for p in parts if p]))
    return "" if joined == "." else joined


def text_of(read: Reader, path: str) -> str:
    """The file's text, without a byte order mark; "" when it is missing."""
    data = read(path)
    # What "utf-8-sig" decodes, without importing that codec: ~0.3 ms of every hook that
    # detects an SQL directory (the BOM's bytes decode to U+FEFF only at the start).
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff") \
        if data is not None else ""


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
        self.recursive = recursive
        self.claims_directories = False

    @property
    def _pattern(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._source, re.DOTALL)
        return self._compiled

    def _name(self, rel: str) -> str | None:
        if self.recursive:
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
