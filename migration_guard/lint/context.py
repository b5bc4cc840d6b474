"""State one lint run threads through the rules: options, what the file created so far,
transaction state, and the findings reported (as byte offsets, mapped to lines later)."""

from __future__ import annotations

from migration_guard.lint.options import LintOptions
from migration_guard.lint.source import SourceMap
from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

Node = dict[str, "Any"]  # "Any": typing is imported for the type checker only


class RawFinding(NamedTuple):
    code: str
    offset: int
    message: str
    hint: str


class NewTable:
    """A table created in this file, with what later statements did to it."""

    __slots__ = ("columns", "comment", "has_primary_key", "name", "offset", "rls")

    def __init__(self, name: str, offset: int) -> None:
        self.name = name
        self.offset = offset
        self.columns: list[str] = []
        self.has_primary_key = False
        self.rls = False
        self.comment = False


class Context:
    """Mutable state of one file's lint (plain class: no dataclasses import at startup)."""

    def __init__(self, options: LintOptions, enabled: frozenset[str],
                 earlier: set[str] | frozenset[str], asked: set[str]) -> None:
        self.options = options
        self.enabled = enabled
        #: Tables created by earlier files of the change set (read, never copied: a
        #: change set of 1,000 files must not cost 1,000 copies) and by this file.
        self.earlier = earlier
        #: Every table looked up in ``earlier`` (filled in; the caller's set).
        self.asked = asked
        self.existing_new: set[str] = set()
        #: Byte offset of the statement being checked.
        self.offset = 0
        self.findings: list[RawFinding] = []
        #: Tables this file creates, in order.
        self.created: list[str] = []
        self.new_tables: dict[str, NewTable] = {}
        #: Column lists of indexes (and PK/unique constraints) created in this file.
        self.indexes: dict[str, list[tuple[str, ...]]] = {}
        #: Foreign keys added in this file: (table, columns, offset of the statement).
        self.foreign_keys: list[tuple[str, tuple[str, ...], int]] = []
        #: Offset of an explicit BEGIN still open, and whether any transaction is open.
        self.begin_offset: int | None = None
        self.tx_open = options.in_transaction
        self.lock_timeout_set = False
        self.lock_timeout_reported = False
        self.statement_timeout_set = False
        self.statement_timeout_reported = False
        #: BEGINs reported as nested (MG341): their COMMIT is not a stray one.
        self.nested_begins = 0
        #: NOT VALID ``CHECK (col IS NOT NULL)`` constraints: (table, name) -> columns;
        #: once validated, their (table, column) pairs (SET NOT NULL skips its scan, 12+).
        self.pending_not_null: dict[tuple[str, str], tuple[str, ...]] = {}
        self.validated_not_null: set[tuple[str, str]] = set()
        #: Constraints added NOT VALID in this file: (table, name).
        self.not_valid: set[tuple[str, str]] = set()
        #: Indexes created in this file, by name (dropping them needs no CONCURRENTLY).
        self.new_indexes: set[str] = set()
        #: Tables this file enables row level security on (with the statement's offset),
        #: and the tables it creates policies for.
        self.rls_enabled: dict[str, int] = {}
        self.policies: set[str] = set()
        #: The file's text and the current statement's length in bytes (0: to the end),
        #: for the few rules that read what the parse tree does not keep.
        self.source: SourceMap = SourceMap("")
        self.length = 0
        #: Whether the file's tree holds a name long enough to be a truncated one (MG361).
        self.long_names = False

    def report(self, code: str, message: str, hint: str, offset: int | None = None) -> None:
        if code in self.enabled:
            self.findings.append(
                RawFinding(code, self.offset if offset is None else offset, message, hint))

    def statement_bytes(self) -> bytes:
        """The current statement's text (UTF-8)."""
        data = self.source.data
        end = self.offset + self.length if self.length else len(data)
        return data[self.offset:end]

    def on(self, *codes: str) -> bool:
        return any(code in self.enabled for code in codes)

    def is_new(self, table: str) -> bool:
        """Created earlier in this file or this change set: nobody else holds locks on it."""
        if table in self.existing_new:
            return True
        self.asked.add(table)
        return table in self.earlier


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
