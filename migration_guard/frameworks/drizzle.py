"""Drizzle: ``NNNN_tag.sql`` files whose order and membership ``meta/_journal.json`` records."""

from __future__ import annotations

import re
from typing import NamedTuple

from migration_guard.frameworks.sqldir import SqlDirectory

JOURNAL = "meta/_journal.json"


class JournalEntry(NamedTuple):
    idx: int
    tag: str
    when: int
    line: int


class JournalError(NamedTuple):
    line: int
    reason: str


class DrizzleFramework(SqlDirectory):
    def __init__(self) -> None:
        super().__init__(
            "drizzle", r"(?P<version>\d{4,})_.+\.sql", "<NNNN>_<tag>.sql",
            "npx drizzle-kit generate",
        )


DRIZZLE = DrizzleFramework()


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
