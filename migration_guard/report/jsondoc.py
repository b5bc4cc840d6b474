"""``--format json``: one stable document per run (its layout is versioned and in the README).

Bump :data:`VERSION` on any change that could break a reader (a field removed, renamed or
retyped); adding a field does not. Paths are repository-relative and ``/``-separated; bytes
of a file name that are not UTF-8 appear as ``\\xNN``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO, cast

from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.report.common import (
    FAIL,
    checks_of,
    encodable,
    exit_code,
    findings_of,
    notes_of,
    projects_of,
    rule,
    verdict,
    warnings_of,
)

VERSION = 1

JSONValue = str | int | None | list["JSONValue"] | dict[str, "JSONValue"]


def _finding(finding: Finding) -> dict[str, JSONValue]:
    known = rule(finding.code)
    return {
        "code": finding.code,
        "name": known.name if known else None,
        "check": finding.check,
        "project": encodable(finding.project),
        "path": encodable(finding.path),
        "line": finding.line,
        "column": finding.column,
        "message": encodable(finding.message),
        "hint": encodable(finding.hint),
        "severity": finding.severity,
    }


def _note(note: Note) -> dict[str, JSONValue]:
    return {"check": note.check, "project": encodable(note.project),
            "path": encodable(note.path), "message": encodable(note.message)}


def _projects(outcomes: Sequence[Outcome]) -> list[JSONValue]:
    return [{"name": encodable(project), "checks": [
        {"check": o.check, "verdict": verdict(o), "findings": len(o.findings),
         "notes": len(o.notes)} for o in outcomes if o.project == project
    ]} for project in projects_of(outcomes)]


def document(outcomes: Sequence[Outcome], header: str, *,
             fail_on: str = "error", failure: GuardError | None = None
             ) -> dict[str, JSONValue]:
    """The JSON document; ``exit_code`` is the run's own (2 when a check could not run,
    ``error`` then saying why; ``null`` otherwise)."""
    from migration_guard import __version__

    findings = findings_of(outcomes)
    failed = sum(verdict(o) == FAIL for o in outcomes)
    return {
        "version": VERSION,
        "tool": {"name": "migration-guard", "version": __version__},
        "header": encodable(header),
        "exit_code": exit_code(outcomes, fail_on, unchecked=failure is not None),
        "error": None if failure is None else {"message": encodable(failure.message),
                                               "hint": encodable(failure.hint)},
        "counts": {
            "projects": len(projects_of(outcomes)),
            "checks": len(checks_of(outcomes)),
            "verdicts": len(outcomes),
            "passed": len(outcomes) - failed,
            "failed": failed,
            "findings": len(findings),
            "warnings": warnings_of(findings),
            "notes": sum(len(o.notes) for o in outcomes),
        },
        "projects": _projects(outcomes),
        "findings": [_finding(f) for f in findings],
        "notes": [_note(n) for n in notes_of(outcomes)],
        "traces": _traces(outcomes),
    }


def _traces(outcomes: Sequence[Outcome]) -> list[JSONValue]:
    from migration_guard.report.trace import json_traces

    # Numbers and booleans too: JSONValue spells out only what the findings use.
    return cast(list[JSONValue], json_traces(outcomes))


def render_json(outcomes: Sequence[Outcome], header: str, out: TextIO, *,
                fail_on: str = "error", failure: GuardError | None = None) -> None:
    out.write(json.dumps(document(outcomes, header, fail_on=fail_on, failure=failure),
                         indent=2) + "\n")
