"""The default format, for people: one finding per line with its hint indented below."""

from __future__ import annotations

from collections.abc import Sequence

from migration_guard.findings import Finding, Outcome
from migration_guard.report.common import (
    NOT_ALL_CHECKED,
    checks_of,
    count,
    display_path,
    findings_of,
    notes_of,
    one_line,
    warnings_of,
)
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TextIO

    from migration_guard.errors import GuardError


def location(finding: Finding) -> str:
    """``path:line:column`` as far as the finding has them, the path made printable."""
    where = display_path(finding.path)
    if finding.line is not None:
        where += f":{finding.line}"
        if finding.column is not None:
            where += f":{finding.column}"
    return where


def finding_lines(finding: Finding) -> list[str]:
    level = "warning: " if finding.severity == "warning" else ""
    lines = [f"{location(finding)}: {finding.code} {level}{one_line(finding.message)}"]
    if finding.hint:
        lines.append(f"  hint: {one_line(finding.hint)}")
    return lines


def render_text(outcomes: Sequence[Outcome], header: str, out: TextIO, *,
                nothing_checked: str = "", failure: GuardError | None = None) -> None:
    findings = findings_of(outcomes)
    projects = sorted({o.project for o in outcomes})
    out.write(f"migration-guard: {header}\n")
    for finding in findings:
        out.writelines(line + "\n" for line in finding_lines(finding))
    for note in notes_of(outcomes):
        out.write(f"{display_path(note.path)}: note: {one_line(note.message)}\n")
    if any(o.traces for o in outcomes):
        from migration_guard.report.trace import text_lines

        out.writelines(line + "\n" for line in text_lines(outcomes))
    checks = checks_of(outcomes)
    scope = f"{', '.join(checks) or 'no checks'} over {count(len(projects), 'project')}"
    unchecked = NOT_ALL_CHECKED if failure is not None else ""
    if not projects:
        out.write((nothing_checked or "no migration projects found: nothing to check "
                   "(configure `projects:` in .migration-guard.yaml if that is wrong)") + "\n")
    elif findings:
        warned = warnings_of(findings)
        of_them = f", {warned} of them {'a warning' if warned == 1 else 'warnings'}" \
            if warned else ""
        out.write(f"{count(len(findings), 'finding')}{of_them} ({scope}){unchecked}\n")
    else:
        out.write(f"no findings ({scope}){unchecked}\n")
