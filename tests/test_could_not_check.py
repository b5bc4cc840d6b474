"""A run where one check could not run still reports what the others found, and every
format says the run is incomplete: the summary line, the JSON and SARIF exit status, the
JUnit errors, the GitHub annotation and job summary. Nothing reads as a pass (exit 2)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import Repo
from layouts import BY_NAME, MODELS, setup
from test_formats import schema_errors

ENV_ERROR = ("migrations/env.py: cannot read it to find target_metadata: '(' was never "
             "closed (env.py, line 1)")
ENV_HINT = "fix env.py, or set `schema:` globs for this project in the config"
NEW_SQL = "supabase/migrations/20240102000000_index.sql"


@pytest.fixture
def half_checkable(repo: Repo) -> Repo:
    """An Alembic project whose env.py cannot be read, with an edited model, beside a
    Supabase project whose new migration locks a table: ``required`` cannot judge the
    first; ``lint`` finds MG301 in the second."""
    setup(repo, BY_NAME["alembic"])
    repo.commit("env.py broken", "migrations/env.py", "target_metadata = (\n")
    repo.commit("supabase", "supabase/migrations/20240101000000_init.sql",
                "CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n")
    repo.branch("feature")
    repo.write("app/models.py", MODELS.replace("String(100)", "String(200)"))
    repo.write(NEW_SQL, "SET lock_timeout = '2s';\nSET statement_timeout = '5s';\n"
                        "CREATE INDEX orders_note_idx ON orders (note);\n")
    repo.add()
    return repo


def test_text_summary_says_a_check_could_not_run(half_checkable: Repo) -> None:
    result = half_checkable.mg("check", "--fast")
    assert result.code == 2
    assert result.lines[-1] == ("1 finding (required, immutable, linear, lint over 2 "
                                "projects), but a check could not run: see the error (exit 2)")
    assert any(line.startswith(f"{NEW_SQL}:3:1: MG301 ") for line in result.lines)
    assert result.err.splitlines() == [f"migration-guard: error: {ENV_ERROR}",
                                       f"  hint: {ENV_HINT}"]


def test_no_findings_still_says_a_check_could_not_run(half_checkable: Repo) -> None:
    result = half_checkable.mg("required")
    assert (result.code, result.lines[1:]) == (2, [
        "no findings (required over 1 project), but a check could not run: see the error "
        "(exit 2)"])


def test_json_records_exit_2_and_the_error(half_checkable: Repo) -> None:
    result = half_checkable.mg("check", "--fast", "--format", "json")
    document = json.loads(result.out)
    assert (result.code, document["exit_code"], document["error"]) == (
        2, 2, {"message": ENV_ERROR, "hint": ENV_HINT})
    assert [f["code"] for f in document["findings"]] == ["MG301"]


def test_sarif_records_an_unsuccessful_execution(half_checkable: Repo) -> None:
    result = half_checkable.mg("check", "--fast", "--format", "sarif")
    log = json.loads(result.out)
    assert schema_errors(log) == []
    invocation = log["runs"][0]["invocations"][0]
    assert (result.code, invocation["executionSuccessful"], invocation["exitCode"]) == (
        2, False, 2)
    assert invocation["toolExecutionNotifications"][-1] == {
        "level": "error", "message": {"text": f"{ENV_ERROR}\nhint: {ENV_HINT}"}}


def test_junit_records_an_error(half_checkable: Repo) -> None:
    result = half_checkable.mg("check", "--fast", "--format", "junit")
    root = ET.fromstring(result.out)
    assert (result.code, root.get("errors"), root.get("failures")) == (2, "1", "1")
    error = root.find("./testsuite[@name='migration-guard']/testcase/error")
    assert error is not None
    assert (error.get("message"), error.text) == (ENV_ERROR, f"{ENV_ERROR}\nhint: {ENV_HINT}\n")


def test_github_annotates_and_summarises_the_error(half_checkable: Repo,
                                                   tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = half_checkable.mg("check", "--fast", "--format", "github",
                               env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.code == 2
    assert result.lines[-2:] == [
        "1 finding, but a check could not run: see the error (exit 2)",
        f"::error title=migration-guard could not check::{ENV_ERROR}%0Ahint: {ENV_HINT}"]
    markdown = summary.read_text(encoding="utf-8").splitlines()
    assert markdown[0] == "## migration-guard: 1 finding, but a check could not run"
    # Markdown's special characters escaped, as everywhere in the summary.
    assert markdown[4] == (
        "**Could not check (exit 2):** migrations/env.py: cannot read it to find "
        "target\\_metadata: '(' was never closed (env.py, line 1). Hint: fix env.py, or set "
        "\\`schema:\\` globs for this project in the config")


def test_a_report_file_records_exit_2_too(half_checkable: Repo) -> None:
    result = half_checkable.mg("check", "--fast", "--report-file", "json=report.json")
    document = json.loads((half_checkable.path / "report.json").read_text(encoding="utf-8"))
    assert (result.code, document["exit_code"], document["error"]["message"]) == (
        2, 2, ENV_ERROR)
