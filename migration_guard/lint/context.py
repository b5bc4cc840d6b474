"""State one lint run threads through the rules: options, what the file created so far,
transaction state, and the findings reported (as byte offsets, mapped to lines later)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from migration_guard.lint.options import LintOptions

Node = dict[str, Any]


class RawFinding(NamedTuple):
    code: str
    offset: int
    message: str
    hint: str


@dataclass
class NewTable:
    """A table created in this file, with what later statements did to it."""

    name: str
    offset: int
    columns: list[str] = field(default_factory=list)
    has_primary_key: bool = False
    rls: bool = False
    comment: bool = False


@dataclass
class Context:
    options: LintOptions
    enabled: frozenset[str]
    #: Tables created earlier in the change set or this file (normalized names).
    existing_new: set[str]
    offset: int = 0
    findings: list[RawFinding] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    new_tables: dict[str, NewTable] = field(default_factory=dict)
    #: Leading-column lists of indexes created in this file, per table.
    indexes: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    #: Offset of an explicit BEGIN still open, and whether any transaction is open.
    begin_offset: int | None = None
    tx_open: bool = False
    #: Foreign keys added in this file: (table, columns, offset of the statement).
    foreign_keys: list[tuple[str, tuple[str, ...], int]] = field(default_factory=list)
    lock_timeout_set: bool = False
    lock_timeout_reported: bool = False

    def report(self, code: str, message: str, hint: str, offset: int | None = None) -> None:
        if code in self.enabled:
            self.findings.append(
                RawFinding(code, self.offset if offset is None else offset, message, hint))

    def on(self, *codes: str) -> bool:
        return any(code in self.enabled for code in codes)

    def is_new(self, table: str) -> bool:
        """Created earlier in this file or this change set: nobody else holds locks on it."""
        return table in self.existing_new


def table_name(relation: Node) -> str:
    """Normalized table name: ``schema.name``, with the default ``public`` schema dropped."""
    name = str(relation.get("relname", ""))
    schema = relation.get("schemaname")
    return f"{schema}.{name}" if schema and schema != "public" else name


def normalize_table(name: str) -> str:
    """Normalize a caller-given name the way :func:`table_name` does (drop ``public.``)."""
    schema, _, bare = name.rpartition(".")
    return f"{schema}.{bare}" if schema and schema != "public" else bare


def names(items: list[Node] | None) -> tuple[str, ...]:
    """The ``sval`` strings of a list of ``String`` nodes."""
    return tuple(str(item["String"]["sval"]) for item in items or () if "String" in item)


def type_name(type_node: Node) -> str:
    """Last component of a TypeName (``pg_catalog.int4`` -> ``int4``)."""
    parts = names(type_node.get("names"))
    return parts[-1] if parts else ""
