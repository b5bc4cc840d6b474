"""The Markdown job summary of ``--format github`` (appended to ``$GITHUB_STEP_SUMMARY``).

What was checked against what, a table of verdicts per project, the findings and every
note (honoured exceptions above all). Paths and messages are escaped so that a file name
can neither break the table nor inject HTML or Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence

from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.report.common import (
    count,
    display_path,
    escape_chars,
    failing,
    findings_of,
    notes_of,
    projects_of,
    rule,
)
from migration_guard.report.text import location

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MARKDOWN = set("\\`*_[]|~#")


def _visible(char: str) -> bool:
    return char.isprintable() or char == "\n"


def markdown_text(text: str) -> str:
    """Text as literal inline Markdown: HTML and Markdown syntax escaped, newlines ``<br>``."""
    text = escape_chars(text.replace("\r\n", "\n").replace("\r", "\n"), _visible)
    out: list[str] = []
    for char in text:
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char in _MARKDOWN:
            out.append("\\" + char)
        elif char == "\n":
            out.append("<br>")
        else:
            out.append(char)
    return "".join(out)


def _verdict(outcome: Outcome) -> str:
    found = outcome.findings
    if failing(outcome):
        text = f"❌ fail: {count(len(found), 'finding')}"
    else:
        text = f"✅ pass ({count(len(found), 'warning')})" if found else "✅ pass"
    if outcome.notes:
        text += f" ({count(len(outcome.notes), 'note')})"
    return text


def _finding(finding: Finding) -> str:
    known = rule(finding.code)
    name = f" {known.name}" if known else ""
    level = " (warning)" if finding.severity == "warning" else ""
    line = (f"- {markdown_text(location(finding))}: **{finding.code}**{name}{level}: "
            f"{markdown_text(finding.message)}")
    if finding.hint:
        line += f"<br>hint: {markdown_text(finding.hint)}"
    return line


def _note(note: Note) -> str:
    return (f"- {markdown_text(display_path(note.path))}: note ({note.check}): "
            f"{markdown_text(note.message)}")


def summary_markdown(outcomes: Sequence[Outcome], header: str,
                     failure: GuardError | None = None) -> str:
    findings = findings_of(outcomes)
    heading = count(len(findings), "finding") if findings else "no findings"
    if failure is not None:
        heading += ", but a check could not run"
    lines = [f"## migration-guard: {heading}", "", markdown_text(header), ""]
    if failure is not None:
        hint = f" Hint: {markdown_text(failure.hint)}" if failure.hint else ""
        lines += [f"**Could not check (exit 2):** {markdown_text(failure.message)}.{hint}", ""]
    projects = projects_of(outcomes)
    if not projects:
        lines += ["No migration projects found: nothing to check.", ""]
    notes = notes_of(outcomes)
    for project in projects:
        lines += [f"### {markdown_text(project)}", "", "| check | verdict |", "|---|---|"]
        lines += [f"| {markdown_text(o.check)} | {_verdict(o)} |"
                  for o in outcomes if o.project == project]
        lines.append("")
        own = [_finding(f) for f in findings if f.project == project]
        own += [_note(n) for n in notes if n.project == project]
        if own:
            lines += [*own, ""]
        lines += _trace_tables(outcomes, project)
    return "\n".join(lines) + "\n"


def _trace_tables(outcomes: Sequence[Outcome], project: str) -> list[str]:
    """A table per traced migration of ``project``: one row per statement."""
    from migration_guard.report.trace import COLUMNS, cells, heading, traces_of

    lines: list[str] = []
    for owner, trace in traces_of(outcomes):
        if owner != project:
            continue
        lines += [f"#### {markdown_text(heading(trace))}", "",
                  "| " + " | ".join(markdown_text(c) for c in COLUMNS) + " |",
                  "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(markdown_text(c) for c in cells(s)) + " |"
                  for s in trace.statements]
        lines.append("")
    return lines


def append_summary(outcomes: Sequence[Outcome], header: str, path: str, *,
                   failure: GuardError | None = None) -> None:
    """Append (never overwrite: other steps write there too) the summary to ``path``."""
    try:
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(summary_markdown(outcomes, header, failure))
    except OSError as error:
        raise GuardError(f"cannot write the job summary to {display_path(path)}: "
                         f"{error.strerror}",
                         "check GITHUB_STEP_SUMMARY, or use another --format") from error
