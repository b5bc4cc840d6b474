"""Render one list of outcomes in every output format; nothing else in the package prints findings.

``text`` for people, ``github`` for workflow annotations (plus the Markdown job summary),
``json``, ``sarif``, ``junit`` and ``gitlab`` (a Code Quality report) for machines. The
machine formats write one document and nothing else to stdout: the header goes into the
document (GitLab's report, a bare array of issues, has no place for it). File names are
shown escaped (a newline in a name cannot forge an extra output line or annotation).
"""

from __future__ import annotations

from collections.abc import Sequence

from migration_guard.findings import Outcome
from migration_guard.report.common import display_path, exit_code
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TextIO

    from migration_guard.errors import GuardError

FORMATS = ("text", "github", "json", "sarif", "junit", "gitlab")
#: Formats that write one document to stdout, for a program to read.
DOCUMENT_FORMATS = ("json", "sarif", "junit", "gitlab")

__all__ = ["DOCUMENT_FORMATS", "FORMATS", "display_path", "exit_code", "render"]


def render(outcomes: Sequence[Outcome], header: str, fmt: str, out: TextIO, *,
           summary_path: str | None = None, nothing_checked: str = "",
           fail_on: str = "error", failure: GuardError | None = None) -> None:
    """Write ``outcomes`` to ``out`` as ``fmt``.

    With ``github``, ``summary_path`` (the CLI passes ``$GITHUB_STEP_SUMMARY``) gets the
    Markdown job summary appended; other formats ignore it. ``nothing_checked`` says why
    there are no outcomes at all (the config disabled every check or every project).
    ``fail_on`` (the config's) decides the exit status the json and sarif documents record.
    ``failure``: a check that could not run (the run exits 2 once these are written): every
    format but gitlab's says so beside the findings of the checks that did run, so that
    they never read as a pass.
    """
    if any(o.traces for o in outcomes):
        from migration_guard.report.trace import with_trace_verdicts

        outcomes = with_trace_verdicts(outcomes)
    if fmt == "github":
        from migration_guard.report.github import render_github

        render_github(outcomes, header, out, failure=failure)
        if summary_path:
            from migration_guard.report.summary import append_summary

            append_summary(outcomes, header, summary_path, failure=failure)
    elif fmt == "json":
        from migration_guard.report.jsondoc import render_json

        render_json(outcomes, header, out, fail_on=fail_on, failure=failure)
    elif fmt == "sarif":
        from migration_guard.report.sarif import render_sarif

        render_sarif(outcomes, header, out, fail_on=fail_on, failure=failure)
    elif fmt == "junit":
        from migration_guard.report.junit import render_junit

        render_junit(outcomes, header, out, failure=failure)
    elif fmt == "gitlab":
        from migration_guard.report.gitlab import render_gitlab

        render_gitlab(outcomes, out)
    else:
        from migration_guard.report.text import render_text

        render_text(outcomes, header, out, nothing_checked=nothing_checked, failure=failure)
