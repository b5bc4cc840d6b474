"""The default format, for people: one finding per line with its hint indented below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from migration_guard.findings import Finding, Outcome
from migration_guard.report.common import (
    checks_of,
    count,
    display_path,
    findings_of,
    notes_of,
    one_line,
)


def location(finding: Finding) -> str:
    """``path:line:column`` as far as the finding has them, the path made printable."""
    where = display_path(finding.path)
    if finding.line is not None:
        where += f":{finding.line}"
        if finding.column is not None:
            where += f":{finding.column}"
    return where


def findings_count(findings: list[Finding]) -> str:
    """``3 findings``, or ``3 findings (1 error, 2 warnings)`` when some are warnings."""
    warnings = sum(f.severity == "warning" for f in findings)
    text = count(len(findings), "finding")
    if warnings:
        text += (f" ({count(len(findings) - warnings, 'error')}, "
                 f"{count(warnings, 'warning')})")
    return text


def finding_lines(finding: Finding) -> list[str]:
    label = " warning:" if finding.severity == "warning" else ""
    lines = [f"{location(finding)}: {finding.code}{label} {one_line(finding.message)}"]
    if finding.hint:
        lines.append(f"  hint: {one_line(finding.hint)}")
    return lines


def render_text(outcomes: Sequence[Outcome], header: str, out: TextIO, *,
                nothing_checked: str = "") -> None:
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
    if not projects:
        out.write((nothing_checked or "no migration projects found: nothing to check "
                   "(configure `projects:` in .migration-guard.yaml if that is wrong)") + "\n")
    elif findings:
        out.write(f"{findings_count(findings)} ({scope})\n")
    else:
        out.write(f"no findings ({scope})\n")
