"""GitHub Actions workflow commands: one ``::error`` annotation per finding on its exact line.

Workflow commands are parsed line by line, so every value is escaped: ``%``, CR and LF in
messages; additionally ``:`` and ``,`` in property values (the file name, the title).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from migration_guard.errors import GuardError
from migration_guard.findings import Outcome
from migration_guard.report.common import (
    NOT_ALL_CHECKED,
    count,
    encodable,
    findings_of,
    notes_of,
    title,
)


def escape_data(text: str) -> str:
    """Escape a workflow command's message (undecodable file name bytes as ``\\xNN``)."""
    return encodable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (file, title)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(outcomes: Sequence[Outcome], header: str, out: TextIO, *,
                  failure: GuardError | None = None) -> None:
    """One ``::error`` (``::warning`` for a warning) per finding on its file and line,
    ``::notice`` per honoured note. A check that could not run gets its own ``::error``
    from the CLI, after these."""
    out.write(f"migration-guard: {escape_data(header)}\n")
    findings = findings_of(outcomes)
    for finding in findings:
        props = [f"file={escape_property(finding.path)}"]
        if finding.line is not None:
            props.append(f"line={finding.line}")
            if finding.column is not None:
                props.append(f"col={finding.column}")
        props.append(f"title={escape_property(title(finding.code))}")
        message = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
        kind = "warning" if finding.severity == "warning" else "error"
        out.write(f"::{kind} {','.join(props)}::{escape_data(message)}\n")
    for note in notes_of(outcomes):
        # An honoured exception is the note a reviewer must see; the rest say what ran.
        kind = "exception" if note.message.startswith("exception honoured") else "note"
        out.write(f"::notice file={escape_property(note.path)},"
                  f"title={escape_property(f'migration-guard {kind}')}::"
                  f"{escape_data(note.message)}\n")
    unchecked = NOT_ALL_CHECKED if failure is not None else ""
    out.write(f"{count(len(findings), 'finding') if findings else 'no findings'}{unchecked}\n")
