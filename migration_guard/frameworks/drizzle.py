"""Drizzle: ``NNNN_tag.sql`` files whose order and membership ``meta/_journal.json`` records,
in the ``out`` directory ``drizzle.config.*`` names."""

from __future__ import annotations

import posixpath
import re
from typing import NamedTuple

from migration_guard.frameworks import Found, Reader
from migration_guard.frameworks.sqldir import SqlDirectory, join, text_of

JOURNAL = "meta/_journal.json"


class JournalEntry(NamedTuple):
    idx: int
    tag: str
    when: int
    line: int


class JournalError(NamedTuple):
    line: int
    reason: str


# Patterns are compiled on first use (re caches them): most repositories need few of them.
_CONFIG_NAME = r"drizzle\.config\.[cm]?[jt]s|drizzle\.config\.json"
_OUT = r"""\bout\s*:\s*["'`]([^"'`]+)["'`]"""
_SCHEMA = r"""\bschema\s*:\s*(\[[^\]]*\]|["'`][^"'`]+["'`])"""
_QUOTED = r"""["'`]([^"'`]+)["'`]"""


class DrizzleFramework(SqlDirectory):
    tracking_tables = frozenset({"__drizzle_migrations"})
    reads = tuple(f"drizzle.config.{ext}" for ext in ("ts", "js", "mts", "cts", "mjs", "cjs",
                                                      "json"))
    markers = (*reads, "/_journal.json")
    detected_by = "drizzle.config.* or meta/_journal.json"
    tracking_schemas = frozenset({"drizzle"})
    applied_query = "SELECT max(created_at) FROM drizzle.__drizzle_migrations"

    def __init__(self) -> None:
        super().__init__(
            "drizzle", r"(?P<version>\d{4,})_.+\.sql", "<NNNN>_<tag>.sql",
            "npx drizzle-kit generate",
        )
        self.claims_directories = True

    def recorded_version(self, rel: str) -> str:
        return rel.removesuffix(".sql")

    def applied(self, recorded: set[str], versions: list[str]) -> set[str]:
        return set(versions) if recorded else set()

    def detect(self, paths: list[str], read: Reader) -> list[Found]:
        configs: dict[str, tuple[str, str]] = {}  # migrations dir -> (config file, text)
        for cfg in (p for p in paths if "drizzle.config." in p
                    and re.fullmatch(_CONFIG_NAME, posixpath.basename(p))):
            text = text_of(read, cfg)
            out = re.search(_OUT, text)
            configs[join(posixpath.dirname(cfg), out.group(1) if out else "drizzle")] = \
                (cfg, text)
        found: list[Found] = []
        dirs = {posixpath.dirname(posixpath.dirname(p)) for p in paths
                if p.endswith("/meta/_journal.json")}
        for migrations in sorted(dirs | set(configs)):
            schema: tuple[str, ...] = ()
            source = "no schema in drizzle.config"
            root = posixpath.dirname(migrations)
            if migrations in configs:
                cfg, text = configs[migrations]
                root = posixpath.dirname(cfg)
                match = re.search(_SCHEMA, text)
                if match:
                    schema = tuple(join(root, g) for g in re.findall(_QUOTED, match.group(1)))
                    source = f"schema in {cfg}"
            found.append(Found(migrations, schema, source, root))
        return found


FRAMEWORK = DrizzleFramework()


def parse_journal(data: bytes) -> list[JournalEntry] | JournalError:
    import json  # only Drizzle projects pay for it

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return JournalError(data[: exc.start].count(b"\n") + 1, "not valid UTF-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return JournalError(exc.lineno, f"not valid JSON: {exc.msg}")
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return JournalError(1, 'no "entries" list')
    parsed: list[JournalEntry] = []
    for number, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("tag"), str)
                and isinstance(entry.get("idx"), int)):
            return JournalError(1, f'entry {number} lacks a string "tag" or an integer "idx"')
        when = entry.get("when")
        tag_match = re.search(r'"tag"\s*:\s*' + re.escape(json.dumps(entry["tag"])), text)
        line = text.count("\n", 0, tag_match.start()) + 1 if tag_match else 1
        parsed.append(JournalEntry(entry["idx"], entry["tag"],
                                   when if isinstance(when, int) else 0, line))
    return parsed
