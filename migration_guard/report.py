"""Render one list of outcomes: ``text`` for people, ``github`` for workflow annotations.

Nothing else in the package prints findings. File names are shown escaped (a newline in
a name cannot forge an extra output line or annotation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from migration_guard.codes import GIT_CODES
from migration_guard.findings import Finding, Outcome, sort_key

FORMATS = ("text", "github")


def display_path(path: str) -> str:
    """A path as one printable line: control characters and undecodable bytes escaped."""
    if path.isprintable():
        return path
    out: list[str] = []
    for char in path:
        if char.isprintable():
            out.append(char)
        elif "\udc80" <= char <= "\udcff":
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def _location(finding: Finding) -> str:
    where = display_path(finding.path)
    if finding.line is not None:
        where += f":{finding.line}"
        if finding.column is not None:
            where += f":{finding.column}"
    return where


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render_text(outcomes: Sequence[Outcome], header: str, out: TextIO) -> None:
    findings = sorted((f for o in outcomes for f in o.findings), key=sort_key)
    projects = sorted({o.project for o in outcomes})
    checks = list(dict.fromkeys(o.check for o in outcomes))
    out.write(f"migration-guard: {header}\n")
    for finding in findings:
        out.write(f"{_location(finding)}: {finding.code} {_one_line(finding.message)}\n")
        if finding.hint:
            out.write(f"  hint: {_one_line(finding.hint)}\n")
    for note in (n for o in outcomes for n in o.notes):
        out.write(f"{display_path(note.path)}: note: {_one_line(note.message)}\n")
    scope = f"{', '.join(checks) or 'no checks'} over {_count(len(projects), 'project')}"
    if not projects:
        out.write("no migration projects found: nothing to check "
                  "(configure `projects:` in .migration-guard.yaml if that is wrong)\n")
    elif findings:
        out.write(f"{_count(len(findings), 'finding')} ({scope})\n")
    else:
        out.write(f"no findings ({scope})\n")


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (file, title)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _title(code: str) -> str:
    known = GIT_CODES.get(code)
    if known is None:
        from migration_guard.codes import all_codes

        known = all_codes().get(code)
    return f"{code} {known.name}" if known else code


def render_github(outcomes: Sequence[Outcome], header: str, out: TextIO) -> None:
    """One ``::error`` per finding on its file and line, ``::notice`` per honoured note."""
    out.write(f"migration-guard: {escape_data(header)}\n")
    for finding in sorted((f for o in outcomes for f in o.findings), key=sort_key):
        props = [f"file={escape_property(finding.path)}"]
        if finding.line is not None:
            props.append(f"line={finding.line}")
            if finding.column is not None:
                props.append(f"col={finding.column}")
        props.append(f"title={escape_property(_title(finding.code))}")
        message = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
        out.write(f"::error {','.join(props)}::{escape_data(message)}\n")
    for note in (n for o in outcomes for n in o.notes):
        out.write(f"::notice file={escape_property(note.path)},"
                  f"title={escape_property('migration-guard exception')}::"
                  f"{escape_data(note.message)}\n")
    total = sum(len(o.findings) for o in outcomes)
    out.write(f"{_count(total, 'finding')}\n" if total else "no findings\n")


def render(outcomes: Sequence[Outcome], header: str, fmt: str, out: TextIO) -> None:
    if fmt == "github":
        render_github(outcomes, header, out)
    else:
        render_text(outcomes, header, out)


def exit_code(outcomes: Sequence[Outcome]) -> int:
    return 1 if any(o.findings for o in outcomes) else 0
