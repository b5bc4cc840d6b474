"""The reusable workflow's steps, executed locally in order as a runner would run them.

The repository is shaped like a GitHub pull request: a bare ``origin`` with ``main`` and a
feature branch, and the test merge commit GitHub prepares as ``refs/pull/1/merge``. Each
``run:`` script runs with ``bash --noprofile --norc -eo pipefail`` (GitHub's ``shell:
bash``), the runner's variables, and the step's ``env:`` with its ``${{ }}`` expressions
evaluated from the workflow's own input defaults. ``uses:`` steps are emulated:
actions/checkout by fetching the merge ref from origin as deep as its ``fetch-depth``
says, actions/setup-python by a ``python`` on PATH. That ``python`` records
``python -m pip`` instead of installing (no network to GitHub here; the package under test
is already installed) and runs the real interpreter for anything else.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import ROOT, Repo, clean_env
from layouts import BY_NAME, setup
from test_workflows import ACTION, REUSABLE, load

INIT = "supabase/migrations/20240101000000_init.sql"
NEW = "supabase/migrations/20240110000000_user_names.sql"
NEW_SQL = "alter table users add column name text;\ncreate index users_name on users (name);\n"
TOOL_REPOSITORY = "migration-guard/migration-guard"
TOOL_SHA = "5" * 40
FAST_CHECKS = "required,immutable,linear,lint"
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
EXPRESSION = re.compile(r"\$\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")


class PullRequest(NamedTuple):
    origin: Path
    base: str  # main's tip when the merge commit was made: the merge commit's first parent
    stale_base: str  # pull_request.base.sha in the payload: where the branch was cut
    head: str
    merge: str


def make_pull_request(repo: Repo, tmp_path: Path, config: str | None = None, *,
                      config_in_pull_request: str | None = None) -> PullRequest:
    """main, a feature branch whose first commit went in with --no-verify (it edits a
    merged migration), main moving on, and GitHub's merge of the two. ``config``: the
    repository's .migration-guard.yaml, on main from the start; ``config_in_pull_request``:
    the one the pull request's last commit brings."""
    setup(repo, BY_NAME["supabase"])
    if config is not None:
        repo.commit("configure migration-guard", ".migration-guard.yaml", config)
    fork = repo.git("rev-parse", "HEAD").strip()
    repo.branch("feature")
    repo.append(INIT, "-- fixed in place, hooks skipped\n")
    repo.add()
    # The hook would have refused this commit; --no-verify skips it.
    assert repo.mg("immutable").code == 1
    repo.git("commit", "-q", "--no-verify", "-m", "edit a merged migration")
    head = repo.commit("add user names", NEW, NEW_SQL)
    if config_in_pull_request is not None:
        head = repo.commit("configure", ".migration-guard.yaml", config_in_pull_request)
    repo.checkout("main")
    base = repo.commit("another pull request", "supabase/migrations/20240105000000_other.sql",
                       "create table other (id bigint primary key);\n")
    repo.git("checkout", "-q", "--detach", "main")
    repo.git("merge", "-q", "--no-ff", "-m", f"Merge {head} into {base}", head)
    merge = repo.git("rev-parse", "HEAD").strip()
    origin = tmp_path / "origin.git"
    repo.git("init", "-q", "--bare", str(origin))
    repo.git("push", "-q", str(origin), "main", "feature", f"{head}:refs/pull/1/head",
             f"{merge}:refs/pull/1/merge")
    return PullRequest(origin, base, fork, head, merge)


def evaluate(value: object, contexts: dict[str, str]) -> str:
    """A step's ``env:`` value: only plain context lookups are supported (and needed)."""
    def lookup(match: re.Match[str]) -> str:
        assert match.group(1) in contexts, f"unexpected expression {match.group(0)}"
        return contexts[match.group(1)]
    return EXPRESSION.sub(lookup, str(value))


def input_contexts(inputs: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    values = {name: spec.get("default", "") for name, spec in inputs.items()}
    assert set(overrides) <= set(values)
    values.update(overrides)
    return {f"inputs.{k}": str(v) for k, v in values.items()}


class Runner:
    """A runner's file system and environment for one job."""

    def __init__(self, tmp_path: Path, home: Path, event: dict[str, Any]) -> None:
        self.outputs: dict[str, str] = {}  # what the last step wrote to $GITHUB_OUTPUT
        self.temp = tmp_path / "runner-temp"
        self.workspace = tmp_path / "work" / "app" / "app"
        self.bin = tmp_path / "runner-bin"
        for path in (self.temp, self.workspace, self.bin):
            path.mkdir(parents=True)
        self.pip_calls = self.temp / "pip-calls"
        python = self.bin / "python"
        python.write_text(
            "#!/bin/sh\n"
            'if [ "$1 $2" = "-m pip" ]; then\n'
            f'  printf "%s\\n" "$*" >> "{self.pip_calls}"\n'
            "  exit 0\n"
            "fi\n"
            f'exec "{sys.executable}" "$@"\n')
        tool = self.bin / "migration-guard"
        tool.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m migration_guard "$@"\n')
        python.chmod(0o755)
        tool.chmod(0o755)
        self.home, self.event = home, event
        self.settings_pip_calls = self.pip_calls
        payload = tmp_path / "event.json"
        payload.write_text(json.dumps(event))
        env = clean_env(home)
        self.env = dict(
            env, PATH=f"{self.bin}:{env['PATH']}", PYTHONPATH=str(ROOT), CI="true",
            GITHUB_ACTIONS="true", GITHUB_EVENT_NAME="pull_request",
            GITHUB_EVENT_PATH=str(payload), GITHUB_WORKSPACE=str(self.workspace),
            RUNNER_TEMP=str(self.temp), RUNNER_OS="Linux", GITHUB_SERVER_URL="https://github.com",
            GITHUB_REPOSITORY="octo/app", GITHUB_REF="refs/pull/1/merge",
            GITHUB_HEAD_REF="feature", GITHUB_BASE_REF="main",
        )
        self.summaries: list[Path] = []

    def git(self, *args: str) -> str:
        return Repo(self.workspace, self.env).git(*args)

    def checkout(self, pr: PullRequest, depth: int) -> None:
        """What actions/checkout does for a pull_request event: the merge ref, detached."""
        self.git("init", "-q")
        self.git("remote", "add", "origin", f"file://{pr.origin}")
        if depth == 0:
            self.git("fetch", "-q", "--no-tags", "origin", "+refs/heads/*:refs/remotes/origin/*",
                     "+refs/pull/1/merge:refs/remotes/pull/1/merge")
        else:
            self.git("fetch", "-q", "--no-tags", f"--depth={depth}", "origin",
                     f"+{pr.merge}:refs/remotes/pull/1/merge")
        self.git("checkout", "-q", "--detach", pr.merge)
        self.env["GITHUB_SHA"] = pr.merge

    def run_step(
        self, step: dict[str, Any], contexts: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        assert step["shell"] == "bash"
        summary = self.temp / f"step-summary-{len(self.summaries)}.md"
        summary.touch()
        self.summaries.append(summary)
        output = self.temp / f"step-output-{len(self.summaries)}"
        output.touch()
        env = dict(self.env, GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output))
        env.update({k: evaluate(v, contexts) for k, v in step.get("env", {}).items()})
        result = subprocess.run([*BASH, "-c", step["run"]], cwd=self.workspace, env=env,
                                capture_output=True, text=True, check=False, timeout=600)
        self.outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
        return result


def pull_request_event(pr: PullRequest) -> dict[str, Any]:
    return {"action": "synchronize", "number": 1, "pull_request": {
        "number": 1, "head": {"sha": pr.head, "ref": "feature"},
        "base": {"sha": pr.stale_base, "ref": "main"}}}


class WorkflowRun(NamedTuple):
    settings: list[subprocess.CompletedProcess[str]]  # the settings job's run: steps
    check: list[subprocess.CompletedProcess[str]]  # the check job's run: steps
    image: str  # the check job's service image, as its expression evaluates


def run_job(runner: Runner, job: dict[str, Any], contexts: dict[str, str], pr: PullRequest,
            depth: int | None) -> tuple[list[subprocess.CompletedProcess[str]], dict[str, str]]:
    """Every step of one job in order, stopping after the first failing step as GitHub
    does; the job's outputs, evaluated from its steps' outputs."""
    contexts = dict(contexts)
    results = []
    for step in job["steps"]:
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            runner.checkout(pr, step["with"].get("fetch-depth", 1) if depth is None else depth)
        elif uses.startswith("actions/setup-python@"):
            assert evaluate(step["with"]["python-version"], contexts) == "3.12"
        else:
            assert not uses, uses
            results.append(runner.run_step(step, contexts))
            if "id" in step:
                contexts.update({f"steps.{step['id']}.outputs.{k}": v
                                 for k, v in runner.outputs.items()})
            if results[-1].returncode != 0:
                break
    # A step that never ran has no outputs: GitHub evaluates them as empty.
    unset = {m.group(1): "" for v in job.get("outputs", {}).values()
             for m in EXPRESSION.finditer(str(v)) if m.group(1).startswith("steps.")}
    contexts = {**unset, **contexts}
    outputs = {k: evaluate(v, contexts) for k, v in job.get("outputs", {}).items()}
    return results, outputs


def run_reusable_workflow(
    runner: Runner, pr: PullRequest, overrides: dict[str, str], *, depth: int | None = None,
    workflow: tuple[str, str] = (TOOL_REPOSITORY, TOOL_SHA),
) -> WorkflowRun:
    """The settings job on a runner of its own, then the check job on ``runner`` with the
    settings job's outputs (``needs``). ``workflow``: job.workflow_repository and
    job.workflow_sha as the runner provides them."""
    doc = load(REUSABLE)
    contexts = input_contexts(doc["on"]["workflow_call"]["inputs"], overrides)
    contexts.update({"job.workflow_repository": workflow[0], "job.workflow_sha": workflow[1]})
    settings_job, check_job = doc["jobs"]["settings"], doc["jobs"]["migration-guard"]
    assert check_job["needs"] == "settings"
    settings_runner = Runner(runner.temp.parent / "settings-job", runner.home, runner.event)
    settings, outputs = run_job(settings_runner, settings_job, contexts, pr, None)
    runner.settings_pip_calls = settings_runner.pip_calls
    failed = settings[-1].returncode != 0
    contexts["needs.settings.result"] = "failure" if failed else "success"
    contexts.update({f"needs.settings.outputs.{k}": ("" if failed else v)
                     for k, v in outputs.items()})
    image = evaluate(check_job["services"]["postgres"]["image"], contexts)
    check, _ = run_job(runner, check_job, contexts, pr, depth)
    return WorkflowRun(settings, check, image)


def expected_output(runner: Runner, pr: PullRequest) -> list[str]:
    """The check step's stdout: the header naming base and head, one annotation per finding
    (the edit that went in with --no-verify, and the new migration's lint findings)."""
    base = pr.base[:12]
    old, new = (runner.git("rev-parse", f"{commit}:{INIT}").strip()[:12]
                for commit in (pr.base, pr.merge))
    origin = "pull request base: first parent of the merge commit"
    return [
        f"migration-guard: base: {base} ({origin}); checked: HEAD at {pr.merge[:12]} (merge of "
        f"pull request head {pr.head[:12]} into the base)",
        f"::error file={INIT},title=MG102 merged-migration-edited::migration edited after it "
        f"was merged (merged in {base} ({origin}); blob {old} -> {new})%0Ahint: restore it: git "
        f"restore --source={base} --staged --worktree -- {INIT} and put the change in a new "
        "migration",
        f"::warning file={NEW},line=1,col=1,title=MG309 missing-lock-timeout::",
        f"::warning file={NEW},line=1,col=1,title=MG313 missing-statement-timeout::",
        f"::error file={NEW},line=2,col=1,title=MG301 index-without-concurrently::",
        "4 findings",
    ]


def assert_output(output: str, expected: list[str]) -> None:
    """Exact lines; a line expected to end in ``::`` fixes the annotation's location and
    title, and leaves the lint rule's wording (owned by the rule) to the rule's tests."""
    lines = output.splitlines()
    assert len(lines) == len(expected), output
    for line, want in zip(lines, expected, strict=True):
        if want.endswith("::"):
            assert line.startswith(want), (line, want)
        else:
            assert line == want


def expected_summary(output: list[str], checks: list[str]) -> list[str]:
    """The job summary's first lines: heading, header, one verdict per check."""
    verdicts = {"immutable": "❌ fail: 1 finding", "lint": "❌ fail: 3 findings"}
    return [
        "## migration-guard: 4 findings", "",
        output[0].removeprefix("migration-guard: "), "",
        "### supabase/migrations", "",
        "| check | verdict |", "|---|---|",
        *(f"| {c} | {verdicts.get(c, '✅ pass')} |" for c in checks), "",
        r"- supabase/migrations/20240101000000\_init.sql: **MG102** merged-migration-edited: "
        "migration edited after it was merged",
        r"- supabase/migrations/20240110000000\_user\_names.sql:1:1: **MG309** "
        "missing-lock-timeout (warning): ",
        r"- supabase/migrations/20240110000000\_user\_names.sql:1:1: **MG313** "
        "missing-statement-timeout (warning): ",
        r"- supabase/migrations/20240110000000\_user\_names.sql:2:1: **MG301** "
        "index-without-concurrently: ",
    ]


def assert_summary(path: Path, expected: list[str]) -> None:
    lines = path.read_text().splitlines()
    found = sum(want.startswith("- ") for want in expected)  # one line per finding
    assert lines[:len(expected) - found] == expected[:-found]
    for line, want in zip(lines[len(expected) - found:len(expected)], expected[-found:],
                          strict=True):
        assert line.startswith(want), (line, want)
    assert lines[len(expected):] == [""]


@pytest.fixture
def pull_request(repo: Repo, tmp_path: Path) -> PullRequest:
    return make_pull_request(repo, tmp_path)


INSTALL = ("-m pip install --disable-pip-version-check --no-input migration-guard @ "
           f"git+https://github.com/{TOOL_REPOSITORY}@{TOOL_SHA}")
INSTALL_CONFIG_READER = ("-m pip install --disable-pip-version-check --no-input --no-deps "
                         f"migration-guard @ git+https://github.com/{TOOL_REPOSITORY}@{TOOL_SHA}"
                         " PyYAML>=6.0")


@pytest.mark.parametrize("depth", [None, 1], ids=["fetch-depth-from-the-workflow", "shallow"])
def test_reusable_workflow_catches_a_no_verify_edit_in_a_pull_request(
    pull_request: PullRequest, tmp_path: Path, home: Path, depth: int | None
) -> None:
    """``None``: the checkout's own ``fetch-depth: 0``; ``1``: a shallow checkout, which the
    tool deepens from origin by itself."""
    runner = Runner(tmp_path, home, pull_request_event(pull_request))
    run = run_reusable_workflow(runner, pull_request, {"checks": FAST_CHECKS}, depth=depth)
    tool, postgres = run.settings
    assert (tool.returncode, postgres.returncode) == (0, 0), tool.stderr + postgres.stderr
    assert run.image == "postgres:15"
    guard, install, deps, check = run.check
    assert [r.returncode for r in (guard, install, deps)] == [0, 0, 0], install.stderr
    assert runner.settings_pip_calls.read_text().splitlines() == [INSTALL_CONFIG_READER]
    assert runner.pip_calls.read_text().splitlines() == [INSTALL]
    assert deps.stdout == "install-command is empty: nothing to install\n"
    assert (check.returncode, check.stderr) == (1, "")
    expected = expected_output(runner, pull_request)
    assert_output(check.stdout, expected)
    assert_summary(runner.summaries[-1], expected_summary(expected, FAST_CHECKS.split(",")))
    assert [p.read_text() for p in runner.summaries[:-1]] == ["", "", ""]
    assert runner.git("status", "--porcelain").strip() == ""


def test_the_config_decides_which_checks_run(
    repo: Repo, tmp_path: Path, home: Path
) -> None:
    """Every input at its default: the config turns lint off, so the new migration's unsafe
    index is not reported and the job summary lists the three checks that ran."""
    config = "checks: [required, immutable, linear]\n"
    pr = make_pull_request(repo, tmp_path, config)
    runner = Runner(tmp_path, home, pull_request_event(pr))
    *_, check = run_reusable_workflow(runner, pr, {}).check
    assert (check.returncode, check.stderr) == (1, "")
    expected = expected_output(runner, pr)
    assert_output(check.stdout, [*expected[:2], "1 finding"])
    summary = runner.summaries[-1].read_text().splitlines()
    assert summary[:11] == [
        "## migration-guard: 1 finding", "", expected[0].removeprefix("migration-guard: "),
        "", "### supabase/migrations", "", "| check | verdict |", "|---|---|",
        "| required | ✅ pass |", "| immutable | ❌ fail: 1 finding |", "| linear | ✅ pass |"]
    assert summary[11] == ""


@pytest.mark.parametrize(("config", "overrides", "image"), [
    (None, {}, "postgres:15"),
    ("lint:\n  pg_version: 16\n", {}, "postgres:16"),
    ("lint:\n  pg_version: 16\n", {"postgres-image": "supabase/postgres:15.8.1.085"},
     "supabase/postgres:15.8.1.085"),
], ids=["no-config", "configured-major", "postgres-image-input"])
def test_the_service_image_is_production_s_major(
    repo: Repo, tmp_path: Path, home: Path, config: str | None, overrides: dict[str, str],
    image: str,
) -> None:
    pr = make_pull_request(repo, tmp_path, config)
    runner = Runner(tmp_path, home, pull_request_event(pr))
    run = run_reusable_workflow(runner, pr, {"checks": FAST_CHECKS, **overrides})
    assert run.image == image
    _tool, postgres = run.settings
    read_from = ".migration-guard.yaml" if config else "no config: the default"
    source = "the postgres-image input" if overrides else f"production's major, {read_from}"
    assert postgres.stdout.splitlines()[-1] == f"PostgreSQL service image: {image} ({source})"


def test_a_bad_config_fails_the_settings_job_with_one_annotation(
    repo: Repo, tmp_path: Path, home: Path
) -> None:
    pr = make_pull_request(repo, tmp_path,
                           config_in_pull_request="lint:\n  pg_version: fifteen\n")
    runner = Runner(tmp_path, home, pull_request_event(pr))
    run = run_reusable_workflow(runner, pr, {})
    _tool, postgres = run.settings
    assert postgres.returncode == 2
    (annotation,) = [line for line in postgres.stdout.splitlines() if line.startswith("::")]
    assert annotation.startswith("::error title=migration-guard could not check::"
                                 ".migration-guard.yaml:2: lint.pg_version")
    (guard,) = run.check
    assert (guard.returncode, guard.stdout) == (2, (
        "the settings job did not succeed (failure): nothing was checked; its annotation "
        "says why\n"))


def test_settings_read_the_config_with_only_pyyaml_installed(tmp_path: Path) -> None:
    """The settings job installs migration-guard with --no-deps: its config module must
    load (every key of the config template set) with PyYAML and the standard library."""
    import yaml

    step = next(s for s in load(REUSABLE)["jobs"]["settings"]["steps"] if s.get("id") ==
                "postgres")
    script = step["run"].split("<<'PY'\n", 1)[1].rsplit("PY\n", 1)[0]
    site = tmp_path / "site"
    shutil.copytree(Path(yaml.__file__).parent, site / "yaml")
    work = tmp_path / "work"
    work.mkdir()
    config = re.sub(r"^#(?=[a-z_]+:|  )", "",
                    (ROOT / "templates" / "migration-guard.yaml").read_text(), flags=re.M)
    (work / ".migration-guard.yaml").write_text(config)
    outputs = tmp_path / "outputs"
    proc = subprocess.run([sys.executable, "-S", "-c", script], cwd=work, env={
        "PYTHONPATH": f"{site}:{ROOT}", "MG_CONFIG": "", "GITHUB_OUTPUT": str(outputs),
        "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs.read_text() == "image=postgres:15\n"
    assert "sqlalchemy" not in proc.stderr.lower()


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not postgres_reachable(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_reusable_workflow_applies_the_migrations_on_the_service_database(
    repo: Repo, tmp_path: Path, home: Path
) -> None:
    """The config enables every check: the step's own MIGRATION_GUARD_DATABASE_URL
    (localhost:5432, the service container's port) reaches the local server. What apply
    says about the edited migration is the apply check's business (its own tests): here,
    that it ran on the server and annotated only files the pull request changed."""
    pull_request = make_pull_request(
        repo, tmp_path, "checks: [required, immutable, linear, lint, apply]\n")
    runner = Runner(tmp_path, home, pull_request_event(pull_request))
    *_, check = run_reusable_workflow(runner, pull_request, {}).check
    assert (check.returncode, check.stderr) == (1, "")
    lines = check.stdout.splitlines()
    applied = [line for line in lines if ",title=MG2" in line]
    for line in applied:  # the trace's warnings (MG240) are annotations too
        assert line.startswith(tuple(f"::{kind} file={path}," for kind in ("error", "warning")
                                     for path in (INIT, NEW))), line
    # the apply check's notes: the server it ran on (contained on a URL), the preset
    notes = [line for line in lines if line.startswith("::notice file=supabase/migrations,")]
    assert any("contained: the migrations run as a role owning only the throwaway database"
               in line for line in notes), notes
    others = [line for line in lines[:-1] if line not in applied and line not in notes]
    expected = expected_output(runner, pull_request)
    assert_output("\n".join(others), expected[:-1])
    assert lines[-1] == f"{4 + len(applied)} findings"
    table = runner.summaries[-1].read_text().splitlines()
    errors = [line for line in applied if line.startswith("::error")]
    verdict = "✅ pass" if not errors else f"❌ fail: {len(applied)} finding"
    assert any(row.startswith(f"| apply | {verdict}") for row in table), table


def test_install_command_runs_in_the_working_directory(
    pull_request: PullRequest, tmp_path: Path, home: Path
) -> None:
    runner = Runner(tmp_path, home, pull_request_event(pull_request))
    command = "python -m pip install -r requirements.txt && pwd > \"$RUNNER_TEMP/cwd\""
    run = run_reusable_workflow(runner, pull_request, {
        "checks": FAST_CHECKS, "install-command": command, "working-directory": "supabase"})
    assert [r.returncode for r in run.check] == [0, 0, 0, 1]
    assert runner.pip_calls.read_text().splitlines()[1:] == [
        "-m pip install -r requirements.txt"]
    assert (runner.temp / "cwd").read_text() == f"{runner.workspace / 'supabase'}\n"


def tool_step() -> dict[str, Any]:
    (step,) = [s for s in load(REUSABLE)["jobs"]["settings"]["steps"] if s.get("id") == "tool"]
    return step


def run_tool_step(tmp_path: Path, home: Path, repository: str, sha: str,
                  requirement: str = "") -> tuple[subprocess.CompletedProcess[str], Runner]:
    runner = Runner(tmp_path, home, {})
    result = runner.run_step(tool_step(), {"job.workflow_repository": repository,
                                           "job.workflow_sha": sha,
                                           "inputs.migration-guard-requirement": requirement})
    return result, runner


def test_install_step_refuses_a_workflow_sha_that_names_no_commit(
    tmp_path: Path, home: Path
) -> None:
    result, runner = run_tool_step(tmp_path, home, TOOL_REPOSITORY, "main")
    assert result.returncode == 2
    assert result.stdout == (
        "::error title=migration-guard::job.workflow_repository and job.workflow_sha do not "
        "name a commit: this runner cannot tell which migration-guard to install\n")
    assert runner.outputs == {}


def test_a_runner_without_workflow_sha_or_input_fails_with_one_annotation(
    pull_request: PullRequest, tmp_path: Path, home: Path
) -> None:
    runner = Runner(tmp_path, home, pull_request_event(pull_request))
    run = run_reusable_workflow(runner, pull_request, {}, workflow=("", ""))
    (tool,) = run.settings
    assert (tool.returncode, tool.stdout) == (2, (
        "::error title=migration-guard::this runner leaves job.workflow_repository and "
        "job.workflow_sha empty, so the workflow cannot tell which migration-guard to "
        "install: set the input migration-guard-requirement (README, CI)\n"))
    (guard,) = run.check
    assert guard.returncode == 2 and "::" not in guard.stdout
    assert not runner.pip_calls.exists()


def test_a_runner_without_workflow_sha_installs_the_requirement_input(
    pull_request: PullRequest, tmp_path: Path, home: Path
) -> None:
    requirement = ("migration-guard @ git+https://ghe.example.com/platform/migration-guard@"
                   + "7" * 40)
    runner = Runner(tmp_path, home, pull_request_event(pull_request))
    run = run_reusable_workflow(runner, pull_request, {
        "checks": FAST_CHECKS, "migration-guard-requirement": requirement}, workflow=("", ""))
    assert [r.returncode for r in run.check] == [0, 0, 0, 1]
    assert runner.pip_calls.read_text().splitlines() == [
        f"-m pip install --disable-pip-version-check --no-input {requirement}"]


def test_the_requirement_input_is_not_used_where_the_runner_names_the_commit(
    tmp_path: Path, home: Path
) -> None:
    result, runner = run_tool_step(tmp_path, home, TOOL_REPOSITORY, TOOL_SHA,
                                   "migration-guard==0.1.0")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "::notice title=migration-guard::migration-guard-requirement is not used: this runner "
        f"names the workflow's own commit, {TOOL_SHA}",
        f"migration-guard to install: migration-guard @ git+https://github.com/"
        f"{TOOL_REPOSITORY}@{TOOL_SHA}"]
    assert runner.outputs == {"requirement": f"migration-guard @ git+https://github.com/"
                                             f"{TOOL_REPOSITORY}@{TOOL_SHA}"}


def test_the_requirement_input_must_be_one_requirement(tmp_path: Path, home: Path) -> None:
    for bad in ("--index-url=https://evil.example/simple migration-guard",
                "migration-guard\nrequirement=x"):
        result, runner = run_tool_step(tmp_path / str(len(bad)), home, "", "", bad)
        assert result.returncode == 2
        assert result.stdout.startswith("::error title=migration-guard::"
                                        "migration-guard-requirement is not a pip requirement")
        assert runner.outputs == {}


def test_composite_action_runs_the_same_checks_in_the_callers_job(
    pull_request: PullRequest, tmp_path: Path, home: Path
) -> None:
    """ci/action.yml after the caller's own checkout: installed from the action's path."""
    runner = Runner(tmp_path, home, pull_request_event(pull_request))
    runner.checkout(pull_request, 0)
    action = load(ACTION)
    contexts = input_contexts(action["inputs"], {"checks": FAST_CHECKS})
    runner.env["GITHUB_ACTION_PATH"] = str(ROOT / "ci")
    install, check = (runner.run_step(step, contexts) for step in action["runs"]["steps"])
    assert install.returncode == 0, install.stderr
    assert runner.pip_calls.read_text().splitlines() == [
        f"-m pip install --disable-pip-version-check --no-input {ROOT / 'ci'}/.."]
    assert (check.returncode, check.stderr) == (1, "")
    expected = expected_output(runner, pull_request)
    assert_output(check.stdout, expected)
    assert_summary(runner.summaries[-1], expected_summary(expected, FAST_CHECKS.split(",")))


def test_composite_action_applies_on_the_embedded_server_from_private_dirs(
    repo: Repo, tmp_path: Path, home: Path
) -> None:
    """Every input at its default, the config enabling apply, no server URL: the embedded
    PostgreSQL. The runner's directories are private (0700, as act and self-hosted runners
    make them); run as root, the server itself runs as an unprivileged user."""
    pr = make_pull_request(repo, tmp_path, "checks: [required, immutable, linear, lint, "
                           "apply]\n")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    runner = Runner(private, home, pull_request_event(pr))
    runner.checkout(pr, 0)
    action = load(ACTION)
    runner.env["GITHUB_ACTION_PATH"] = str(ROOT / "ci")
    _install, check = (runner.run_step(step, input_contexts(action["inputs"], {}))
                       for step in action["runs"]["steps"])
    assert check.returncode == 1, check.stdout + check.stderr
    table = runner.summaries[-1].read_text().splitlines()
    assert table[6:13] == ["| check | verdict |", "|---|---|", "| required | ✅ pass |",
                           "| immutable | ❌ fail: 1 finding |", "| linear | ✅ pass |",
                           "| lint | ❌ fail: 3 findings |",
                           "| apply | ❌ fail: 3 findings (2 notes) |"], check.stdout + check.stderr
    assert check.stderr == ""
