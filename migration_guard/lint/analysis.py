"""What linting a file gives: its findings, the tables it creates and the ones its rules
asked about. Apart from the engine, so code that only passes results along (a cache hit)
does not import the parser and the rules."""

from __future__ import annotations

from migration_guard.findings import Finding
from migration_guard.typing_lite import NamedTuple


class LintResult(NamedTuple):
    """Findings for one file, and the tables it creates (to thread through a change set)."""

    findings: list[Finding]
    created_tables: frozenset[str]


class Statement(NamedTuple):
    """One parsed statement: where it starts and what it is (for mapping findings)."""

    line: int
    column: int
    node_type: str
    table: str


class Analysis(NamedTuple):
    findings: list[Finding]
    created_tables: frozenset[str]
    statements: list[Statement]
    #: The tables the rules asked whether earlier files created: the only way
    #: ``created_tables`` given by the caller can change the result.
    asked: frozenset[str] = frozenset()
