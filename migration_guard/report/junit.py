"""``--format junit``: JUnit XML, one test case per check per project, for CI test reports.

A ``testsuite`` per project holds a ``testcase`` per check (``classname`` the project,
``name`` the check); a failing check has one ``failure`` listing its findings as the text
format does, and honoured exceptions go to the case's ``system-out``. XML 1.0 cannot carry
most control characters even as references, so those are written as backslash escapes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TextIO

from migration_guard.errors import GuardError
from migration_guard.findings import Outcome
from migration_guard.report.common import (
    count,
    display_path,
    escape_chars,
    failing,
    findings_of,
    notes_of,
    one_line,
    projects_of,
)
from migration_guard.report.text import finding_lines


def _xml_char(char: str) -> bool:
    code = ord(char)
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or code >= 0x10000)


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids written as backslash escapes."""
    return escape_chars(text, _xml_char)


def _case(outcome: Outcome) -> ET.Element:
    case = ET.Element("testcase", classname=xml_text(outcome.project),
                      name=xml_text(outcome.check))
    findings = findings_of([outcome])
    if findings and failing(outcome):
        codes = " ".join(dict.fromkeys(f.code for f in findings))
        failure = ET.SubElement(case, "failure", type=codes, message=xml_text(
            f"{count(len(findings), 'finding')}: {codes}"))
        failure.text = xml_text("".join(line + "\n" for f in findings
                                        for line in finding_lines(f)))
    elif findings:  # warnings only: the check passed; they are shown, not failed
        ET.SubElement(case, "system-err").text = xml_text("".join(
            line + "\n" for f in findings for line in finding_lines(f)))
    notes = notes_of([outcome])
    if notes:
        ET.SubElement(case, "system-out").text = xml_text("".join(
            f"{display_path(n.path)}: note: {one_line(n.message)}\n" for n in notes))
    return case


def _suite(project: str, outcomes: Sequence[Outcome]) -> ET.Element:
    suite = ET.Element("testsuite", name=xml_text(project), tests=str(len(outcomes)),
                       failures=str(sum(failing(o) for o in outcomes)),
                       errors="0", skipped="0")
    suite.extend(_case(o) for o in outcomes)
    return suite


def _unchecked_suite(failure: GuardError) -> ET.Element:
    """A check that could not run, as JUnit reports a test that could not run: an error."""
    suite = ET.Element("testsuite", name="migration-guard", tests="1", failures="0",
                       errors="1", skipped="0")
    case = ET.SubElement(suite, "testcase", classname="migration-guard", name="could not check")
    error = ET.SubElement(case, "error", message=xml_text(one_line(failure.message)))
    error.text = xml_text(failure.with_hint() + "\n")
    return suite


def junit_tree(outcomes: Sequence[Outcome], header: str,
               failure: GuardError | None = None) -> ET.Element:
    errors = 0 if failure is None else 1
    root = ET.Element("testsuites", name=xml_text(f"migration-guard: {header}"),
                      tests=str(len(outcomes) + errors),
                      failures=str(sum(failing(o) for o in outcomes)), errors=str(errors))
    root.extend(_suite(p, [o for o in outcomes if o.project == p])
                for p in projects_of(outcomes))
    if failure is not None:
        root.append(_unchecked_suite(failure))
    return root


def render_junit(outcomes: Sequence[Outcome], header: str, out: TextIO, *,
                 failure: GuardError | None = None) -> None:
    tree = junit_tree(outcomes, header, failure)
    ET.indent(tree)
    # ASCII with character references: correct whatever encoding stdout has.
    out.write(ET.tostring(tree, encoding="us-ascii", xml_declaration=True).decode("ascii")
              + "\n")
