"""``--format gitlab``: a GitLab Code Quality report (``artifacts:reports:codequality``).

The report is a JSON array with one issue per finding, in the subset of the Code Climate
format GitLab reads: ``description``, ``check_name``, ``fingerprint``, ``severity`` and
``location`` (``path`` and ``lines.begin``; a finding about the whole file points at line 1).
GitLab compares a merge request's issues with the target branch's by fingerprint, so a
fingerprint leaves the line out (a finding that only moves stays the same issue) and is the
same on every run of the same findings. Honoured exceptions are no issue: they are left out,
as the SARIF log keeps them out of its results.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from migration_guard.findings import Finding, Outcome
from migration_guard.report.common import encodable, findings_of, title
from migration_guard.report.jsondoc import JSONValue

#: A finding's severity as GitLab ranks it (``info``, ``minor``, ``major``, ``critical``,
#: ``blocker``): an error blocks the merge request, a warning is shown but does not.
SEVERITIES = {"error": "major", "warning": "minor"}


def fingerprint(finding: Finding, occurrence: int) -> str:
    """A stable id of one finding: what it says about which file, and which of several
    identical findings in that file it is (``occurrence``, counted from 0)."""
    parts = (finding.code, finding.project, finding.path, finding.message, str(occurrence))
    data = "\0".join(parts).encode("utf-8", "surrogateescape")
    return hashlib.sha256(data).hexdigest()


def _description(finding: Finding) -> str:
    message = finding.message + (f" (hint: {finding.hint})" if finding.hint else "")
    return encodable(message)


def _issue(finding: Finding, occurrence: int) -> dict[str, JSONValue]:
    return {
        "description": _description(finding),
        "check_name": title(finding.code),
        "fingerprint": fingerprint(finding, occurrence),
        "severity": SEVERITIES.get(finding.severity, "major"),
        "location": {"path": encodable(finding.path), "lines": {"begin": finding.line or 1}},
    }


def code_quality_issues(outcomes: Sequence[Outcome]) -> list[JSONValue]:
    seen: Counter[tuple[str, str, str, str]] = Counter()
    issues: list[JSONValue] = []
    for finding in findings_of(outcomes):
        key = (finding.code, finding.project, finding.path, finding.message)
        issues.append(_issue(finding, seen[key]))
        seen[key] += 1
    return issues


def render_gitlab(outcomes: Sequence[Outcome], out: TextIO) -> None:
    """The report, and nothing else: GitLab's parser refuses a byte order mark or a header."""
    out.write(json.dumps(code_quality_issues(outcomes), indent=2, ensure_ascii=False) + "\n")
