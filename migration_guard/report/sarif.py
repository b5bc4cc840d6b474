"""``--format sarif``: a SARIF 2.1.0 log for code scanning (GitHub, GitLab, IDE viewers).

One run; ``tool.driver.rules`` holds every rule a finding uses, with the rule's docs as
help; each finding is an ``error`` result at ``%SRCROOT%``-relative ``uri`` and, where it
has one, its line and column (columns count characters). Findings without a line point at
the whole file. Honoured exceptions are notifications of the invocation, not results: they
are no problem to alert on, but a reviewer sees them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO
from urllib.parse import quote

from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.report.common import (
    encodable,
    exit_code,
    findings_of,
    notes_of,
    rule,
    verdict,
)
from migration_guard.report.jsondoc import JSONValue
from migration_guard.report.ruledocs import RuleDoc, load

SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
          "sarif-schema-2.1.0.json")
HOME = "https://github.com/migration-guard/migration-guard"
RULES_DOC = f"{HOME}/blob/main/docs/rules.md"
SRCROOT = "%SRCROOT%"


def artifact_uri(path: str) -> str:
    """A repository path as a relative URI reference: the file name's exact bytes, encoded."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def _location(path: str, line: int | None = None,
              column: int | None = None) -> dict[str, JSONValue]:
    physical: dict[str, JSONValue] = {
        "artifactLocation": {"uri": artifact_uri(path), "uriBaseId": SRCROOT}}
    if line is not None:
        region: dict[str, JSONValue] = {"startLine": line}
        if column is not None:
            region["startColumn"] = column
        physical["region"] = region
    return {"physicalLocation": physical}


def _text(text: str) -> dict[str, JSONValue]:
    return {"text": encodable(text)}


def _documented(code: str, doc: RuleDoc) -> dict[str, JSONValue]:
    uri = f"{RULES_DOC}#{code.lower()}-{doc.name}"
    problem, fix = doc.part("Problem"), doc.part("Fix")
    return {
        "fullDescription": _text(f"{doc.description} {problem}"),
        "help": {"text": f"{doc.description}\n\nProblem: {problem}\n\nFix: {fix}\n\n{uri}",
                 "markdown": doc.markdown},
        "helpUri": uri,
    }


def _undocumented(code: str, name: str, summary: str, check: str) -> dict[str, JSONValue]:
    uri = f"{HOME}#migrations-{check}"
    return {
        "fullDescription": _text(f"{summary[:1].upper()}{summary[1:]}. "
                                 f"Reported by the {check} check."),
        "help": {"text": f"{code} {name}: {summary}. See the {check} check: {uri}",
                 "markdown": f"**{code} `{name}`**: {summary}.\n\n"
                             f"See [the `{check}` check]({uri})."},
        "helpUri": uri,
    }


def _rule(code: str, docs: dict[str, RuleDoc]) -> dict[str, JSONValue]:
    known = rule(code)
    descriptor: dict[str, JSONValue] = {"id": code}
    if known is None:
        return descriptor
    descriptor["name"] = known.name
    descriptor["shortDescription"] = _text(known.summary)
    doc = docs.get(code)
    descriptor.update(_documented(code, doc) if doc else
                      _undocumented(code, known.name, known.summary, known.check))
    descriptor["defaultConfiguration"] = {"level": known.severity}
    descriptor["properties"] = {"check": known.check, "tags": ["migrations", known.check]}
    return descriptor


def _result(finding: Finding, index: int) -> dict[str, JSONValue]:
    message = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
    result: dict[str, JSONValue] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": finding.severity,
        "message": _text(message),
    }
    if finding.path:
        # GitHub code scanning needs a start line on every result (its upload rule
        # GH1003): a finding about the whole file (a deleted migration) points at line 1.
        result["locations"] = [_location(finding.path, finding.line or 1, finding.column)]
    result["properties"] = {"check": finding.check, "project": encodable(finding.project),
                            "hint": encodable(finding.hint)}
    return result


def _notification(note: Note) -> dict[str, JSONValue]:
    notification: dict[str, JSONValue] = {"level": "note", "message": _text(note.message)}
    if note.path:
        notification["locations"] = [_location(note.path)]
    notification["properties"] = {"check": note.check, "project": encodable(note.project)}
    return notification


def _error_notification(failure: GuardError) -> dict[str, JSONValue]:
    """A check that could not run, as SARIF reports a tool's own failure."""
    return {"level": "error", "message": _text(failure.with_hint())}


def sarif_log(outcomes: Sequence[Outcome], header: str, *,
              fail_on: str = "error", failure: GuardError | None = None
              ) -> dict[str, JSONValue]:
    from migration_guard import __version__

    findings = findings_of(outcomes)
    codes = sorted({f.code for f in findings})
    docs = load() if codes else {}
    index = {code: i for i, code in enumerate(codes)}
    notifications: list[JSONValue] = [_notification(n) for n in notes_of(outcomes)]
    if failure is not None:
        notifications.append(_error_notification(failure))
    run: dict[str, JSONValue] = {
        "tool": {"driver": {"name": "migration-guard", "version": __version__,
                            "informationUri": HOME,
                            "rules": [_rule(code, docs) for code in codes]}},
        "invocations": [{
            "executionSuccessful": failure is None,
            "exitCode": exit_code(outcomes, fail_on, unchecked=failure is not None),
            "toolExecutionNotifications": notifications,
        }],
        "originalUriBaseIds": {SRCROOT: {"description": _text("the repository's root")}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.code]) for f in findings],
        "properties": {
            "header": encodable(header),
            "verdicts": [{"project": encodable(o.project), "check": o.check,
                          "verdict": verdict(o)} for o in outcomes],
        },
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render_sarif(outcomes: Sequence[Outcome], header: str, out: TextIO, *,
                 fail_on: str = "error", failure: GuardError | None = None) -> None:
    out.write(json.dumps(sarif_log(outcomes, header, fail_on=fail_on, failure=failure),
                         indent=2) + "\n")
