"""Findings: the one record every check returns and every output format renders."""

from __future__ import annotations

from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # only the apply check makes traces: a hook does not import their module
    from migration_guard.tracing import MigrationTrace


class Finding(NamedTuple):
    """One problem found by a check.

    ``path`` is repository-relative (``/``-separated); ``line``/``column`` are 1-based or
    ``None`` when the finding concerns the whole file (a deleted migration, say).
    ``severity`` is ``"error"`` or ``"warning"``: warnings are shown but do not fail a run
    unless the config says ``fail_on: warning``.
    """

    code: str
    path: str
    line: int | None
    message: str
    hint: str
    column: int | None = None
    check: str = ""
    project: str = ""
    severity: str = "error"


class Note(NamedTuple):
    """Something a run did that a reviewer should see but that is not a failure.

    Honoured exceptions for merged migrations are notes: CI lists every one of them.
    """

    path: str
    message: str
    check: str = ""
    project: str = ""


class Outcome(NamedTuple):
    """The result of one check on one project."""

    check: str
    project: str
    findings: list[Finding]
    notes: list[Note]
    #: What the trace of the apply check observed, per traced migration.
    traces: tuple[MigrationTrace, ...] = ()


SEVERITIES = ("error", "warning")


def fails(finding: Finding, fail_on: str) -> bool:
    """Whether ``finding`` fails the run: errors always, warnings under ``fail_on: warning``."""
    return finding.severity == "error" or fail_on == "warning"


def sort_key(finding: Finding) -> tuple[str, int, int, str]:
    """Report order: by path, then line, column and code."""
    return (finding.path, finding.line or 0, finding.column or 0, finding.code)
