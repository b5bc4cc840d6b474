"""`migration-guard init`: detect, write the config, pre-commit config and caller workflow
from templates/, never overwrite without --force, print what it did and what comes next."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, Repo
from layouts import BY_NAME, LAYOUTS, Layout, setup

TEMPLATES = ROOT / "templates"
SUPABASE = BY_NAME["supabase"]
WRITTEN = [".migration-guard.yaml", ".pre-commit-config.yaml",
           ".github/workflows/migration-guard.yml"]
NEXT_STEPS = [
    "next steps:",
    "  pre-commit install --hook-type pre-commit --hook-type pre-push",
    "  git add .migration-guard.yaml .pre-commit-config.yaml "
    ".github/workflows/migration-guard.yml",
    '  git commit -m "Guard database migrations with migration-guard"',
    "  replace the forty zeros (rev: in .pre-commit-config.yaml, @ in "
    ".github/workflows/migration-guard.yml) with a full commit SHA of migration-guard",
]
ZEROS = "0" * 40
GITLAB_JOB = ".gitlab/migration-guard.gitlab-ci.yml"


def installed_as(site: Path, direct_url: dict[str, Any] | None) -> Path:
    """A site directory holding migration-guard's installation record as pip writes it:
    ``direct_url.json`` (PEP 610) only when installed from a URL or a directory."""
    dist = site / "migration_guard-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: migration-guard\n"
                                   "Version: 0.1.0\n")
    if direct_url is not None:
        (dist / "direct_url.json").write_text(json.dumps(direct_url))
    return site


def install(repo: Repo, site: Path) -> None:
    """Run the CLI as installed in ``site`` (its record is found before any other)."""
    repo.env["PYTHONPATH"] = f"{site}{os.pathsep}{ROOT}"


@pytest.fixture(autouse=True)
def installed_from_an_index(repo: Repo, tmp_path: Path) -> None:
    """By default: a release from a package index, which names no commit."""
    install(repo, installed_as(tmp_path / "index-site", None))


DETECTED = {  # layout -> the project detection names
    "alembic": "migrations/versions", "supabase": "supabase/migrations", "drizzle": "drizzle",
    "flyway": "sql", "prisma": "prisma/migrations", "dbmate": "db/migrations",
    "golang-migrate": "migrations", "sql": "db/migrations",
}


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
def test_init_then_check_all_passes(repo: Repo, layout: Layout) -> None:
    setup(repo, layout)
    result = repo.mg("init")
    assert result.code == 0, result.out + result.err
    assert result.lines[0] == f"detected 1 project: {DETECTED[layout.name]} ({layout.name})"
    repo.commit("adopt migration-guard")
    check = repo.mg("check", "--all")
    assert check.code == 0, check.out + check.err
    assert check.lines[-1] == "no findings (required, immutable, linear, lint over 1 project)"


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
def test_written_config_lists_the_detected_project(repo: Repo, layout: Layout) -> None:
    setup(repo, layout)
    repo.mg("init")
    repo.add()
    listed = json.loads(repo.mg("projects", "--format", "json").out)["include"]
    assert [(p["name"], p["framework"]) for p in listed] == [(DETECTED[layout.name],
                                                              layout.name)]
    config = (repo.path / ".migration-guard.yaml").read_text()
    assert f"projects:\n  - name: {DETECTED[layout.name]}\n    framework: {layout.name}\n" \
        in config


def test_init_output_lines(repo: Repo) -> None:
    setup(repo, SUPABASE)
    result = repo.mg("init")
    assert result.lines == [
        "detected 1 project: supabase/migrations (supabase)",
        *(f"wrote {path}" for path in WRITTEN),
        *NEXT_STEPS,
    ]
    assert result.err == ""


def test_init_writes_the_templates(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.mg("init")
    assert (repo.path / ".pre-commit-config.yaml").read_text() == \
        (TEMPLATES / "pre-commit-config.yaml").read_text()
    assert (repo.path / ".github/workflows/migration-guard.yml").read_text() == \
        (TEMPLATES / "github-workflow.yml").read_text()
    config = (repo.path / ".migration-guard.yaml").read_text()
    template = (TEMPLATES / "migration-guard.yaml").read_text()
    added = ("\n# The projects `migration-guard init` detected:\nprojects:\n"
             "  - name: supabase/migrations\n    framework: supabase\n"
             "    migrations: supabase/migrations\n")
    assert config.replace(added, "", 1) == template


def test_init_writes_no_git_state(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.mg("init")
    assert repo.git("diff", "--cached", "--name-only") == ""
    assert repo.git("status", "--porcelain", "--untracked-files=all").splitlines() == [
        "?? .github/workflows/migration-guard.yml", "?? .migration-guard.yaml",
        "?? .pre-commit-config.yaml"]


def test_init_never_overwrites_without_force(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.write(".pre-commit-config.yaml", "repos: []\n")
    repo.write(".migration-guard.yaml", "checks: [lint]\n")
    result = repo.mg("init")
    assert result.code == 0
    entry = (TEMPLATES / "pre-commit-config.yaml").read_text().split("repos:\n", 1)[1]
    assert result.lines == [
        "detected 1 project: supabase/migrations (supabase)",
        "skipped .migration-guard.yaml: it exists (--force overwrites it)",
        "skipped .pre-commit-config.yaml: it exists (--force overwrites it)",
        "  add this entry under its `repos:`:",
        *(f"  {line}" for line in entry.splitlines() if line.strip()),
        "wrote .github/workflows/migration-guard.yml",
        "next steps:",
        "  pre-commit install --hook-type pre-commit --hook-type pre-push",
        "  git add .github/workflows/migration-guard.yml",
        '  git commit -m "Guard database migrations with migration-guard"',
        NEXT_STEPS[-1],
    ]
    assert (repo.path / ".pre-commit-config.yaml").read_text() == "repos: []\n"
    assert (repo.path / ".migration-guard.yaml").read_text() == "checks: [lint]\n"


def test_init_force_overwrites(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.write(".pre-commit-config.yaml", "repos: []\n")
    result = repo.mg("init", "--force")
    assert result.lines[1:4] == [f"wrote {path}" for path in WRITTEN]
    assert (repo.path / ".pre-commit-config.yaml").read_text() == \
        (TEMPLATES / "pre-commit-config.yaml").read_text()


def test_init_leaves_a_pyproject_config_alone(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.write("pyproject.toml", "[tool.migration-guard]\nchecks = [\"lint\"]\n")
    result = repo.mg("init", "--force")
    assert result.lines[1] == ("skipped .migration-guard.yaml: pyproject.toml has a "
                               "[tool.migration-guard] section (both would be an error)")
    assert not (repo.path / ".migration-guard.yaml").exists()


def test_init_without_projects_keeps_detection_which_fails_closed(repo: Repo) -> None:
    repo.commit("empty", "README.md", "hello\n")
    result = repo.mg("init")
    assert result.lines[0] == ("detected no migrations project: list yours under `projects:` "
                               "in .migration-guard.yaml (see the commented example there)")
    assert (repo.path / ".migration-guard.yaml").read_text() == \
        (TEMPLATES / "migration-guard.yaml").read_text()
    repo.commit("adopt")
    checked = repo.mg("check", "--all")
    assert checked.code == 2  # still nothing to check: never a silent pass
    assert checked.err.startswith("migration-guard: error: no migration projects found")


def test_init_writes_at_the_repository_root(repo: Repo) -> None:
    setup(repo, SUPABASE)
    result = repo.mg("init", "-C", "supabase/migrations")
    assert result.code == 0
    assert all((repo.path / path).is_file() for path in WRITTEN)


def test_init_outside_a_repository_fails(repo: Repo, tmp_path_factory: pytest.TempPathFactory) \
        -> None:
    elsewhere = tmp_path_factory.mktemp("not-a-repo")
    result = repo.mg("init", "-C", str(elsewhere))
    assert result.code == 2
    assert result.err.splitlines()[0] == f"migration-guard: error: not a git repository: " \
        f"{elsewhere}"


def test_init_quotes_odd_paths_in_the_config(repo: Repo) -> None:
    repo.commit("base", "my app: v2/db/migrations/001_init.sql", "SELECT 1;\n")
    assert repo.mg("init").lines[0] == \
        "detected 1 project: my app: v2/db/migrations (sql)"
    repo.commit("adopt")
    listed = json.loads(repo.mg("projects", "--format", "json").out)["include"]
    assert [p["name"] for p in listed] == ["my app: v2/db/migrations"]
    assert repo.mg("check", "--all").code == 0


# -- pinning ------------------------------------------------------------------------------


def test_init_pins_the_commit_pip_installed_from(repo: Repo, tmp_path: Path) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    install(repo, installed_as(tmp_path / "vcs-site", {
        "url": "https://github.com/migration-guard/migration-guard",
        "vcs_info": {"vcs": "git", "requested_revision": "main", "commit_id": commit}}))
    setup(repo, SUPABASE)
    result = repo.mg("init")
    assert result.lines[-1] == (
        f"  pinned to {commit}, the migration-guard commit installed here (rev: in "
        ".pre-commit-config.yaml, @ in .github/workflows/migration-guard.yml): keep it, or "
        "choose a release's commit")
    pre_commit = yaml.safe_load((repo.path / ".pre-commit-config.yaml").read_text())
    assert pre_commit["repos"][0]["rev"] == commit
    workflow = (repo.path / ".github/workflows/migration-guard.yml").read_text()
    assert workflow == (TEMPLATES / "github-workflow.yml").read_text().replace(
        f"@{ZEROS}", f"@{commit}")


def _source_checkout(repo: Repo, tmp_path: Path) -> tuple[Path, str]:
    source = tmp_path / "source"
    source.mkdir()
    checkout = Repo(source, repo.env)
    checkout.git("init", "-q", "-b", "main")
    head = checkout.commit("release", "pyproject.toml", "[project]\nname = 'migration-guard'\n")
    return source, head


def test_init_pins_the_head_of_the_checkout_it_was_installed_from(
        repo: Repo, tmp_path: Path) -> None:
    source, head = _source_checkout(repo, tmp_path)
    install(repo, installed_as(tmp_path / "dir-site", {
        "url": source.as_uri(), "dir_info": {}}))
    setup(repo, SUPABASE)
    repo.mg("init")
    assert yaml.safe_load((repo.path / ".pre-commit-config.yaml").read_text())[
        "repos"][0]["rev"] == head


def test_init_does_not_pin_a_checkout_with_uncommitted_changes(
        repo: Repo, tmp_path: Path) -> None:
    source, _head = _source_checkout(repo, tmp_path)
    (source / "pyproject.toml").write_text("[project]\nname = 'edited'\n")
    install(repo, installed_as(tmp_path / "dir-site", {
        "url": source.as_uri(), "dir_info": {"editable": True}}))
    setup(repo, SUPABASE)
    result = repo.mg("init")
    assert result.lines[-1] == NEXT_STEPS[-1]
    assert yaml.safe_load((repo.path / ".pre-commit-config.yaml").read_text())[
        "repos"][0]["rev"] == ZEROS


# -- GitLab -------------------------------------------------------------------------------


def test_init_writes_the_gitlab_job_beside_gitlab_ci_and_prints_the_include(
        repo: Repo) -> None:
    setup(repo, SUPABASE)
    users_pipeline = "stages: [build, test]\nbuild:\n  stage: build\n  script: [make]\n"
    repo.write(".gitlab-ci.yml", users_pipeline)
    result = repo.mg("init")
    assert result.lines == [
        "detected 1 project: supabase/migrations (supabase)",
        "wrote .migration-guard.yaml",
        "wrote .pre-commit-config.yaml",
        f"wrote {GITLAB_JOB}",
        "next steps:",
        "  pre-commit install --hook-type pre-commit --hook-type pre-push",
        "  add the job to .gitlab-ci.yml (init does not edit it):",
        "    include:",
        f"      - local: {GITLAB_JOB}",
        f"  git add .migration-guard.yaml .pre-commit-config.yaml {GITLAB_JOB}",
        '  git commit -m "Guard database migrations with migration-guard"',
        "  replace the forty zeros (rev: in .pre-commit-config.yaml, MIGRATION_GUARD_REF in "
        f"{GITLAB_JOB}) with a full commit SHA of migration-guard",
    ]
    assert (repo.path / ".gitlab-ci.yml").read_text() == users_pipeline
    assert (repo.path / GITLAB_JOB).read_text() == (TEMPLATES / "gitlab-ci.yml").read_text()
    assert not (repo.path / ".github").exists()


def test_init_pins_the_gitlab_job_and_keeps_its_placeholder_check(
        repo: Repo, tmp_path: Path) -> None:
    commit = "89abcdef0123456789abcdef0123456789abcdef"
    install(repo, installed_as(tmp_path / "vcs-site", {
        "url": "https://github.com/migration-guard/migration-guard",
        "vcs_info": {"vcs": "git", "commit_id": commit}}))
    setup(repo, SUPABASE)
    repo.write(".gitlab-ci.yml", "lint:\n  script: [make lint]\n")
    repo.mg("init")
    job = yaml.safe_load((repo.path / GITLAB_JOB).read_text())["migration-guard"]
    assert job["variables"]["MIGRATION_GUARD_REF"] == commit
    assert f'""|{ZEROS})' in job["script"][0]  # an unset pin still fails loudly


def test_init_says_which_stage_when_the_pipeline_has_no_test_stage(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.write(".gitlab-ci.yml", "stages: [build, verify]\nb:\n  stage: build\n"
               "  script: [make]\n")
    lines = repo.mg("init").lines
    assert lines[lines.index(f"      - local: {GITLAB_JOB}") + 1] == (
        f"  .gitlab-ci.yml has no test stage: add `stage: <one of build, verify>` to the job "
        f"in {GITLAB_JOB}")


def test_init_writes_both_jobs_where_github_and_gitlab_are_both_used(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.write(".gitlab-ci.yml", "lint:\n  script: [make lint]\n")
    repo.write(".github/dependabot.yml", "version: 2\n")
    assert [line for line in repo.mg("init").lines if line.startswith("wrote ")] == [
        "wrote .migration-guard.yaml", "wrote .pre-commit-config.yaml",
        "wrote .github/workflows/migration-guard.yml", f"wrote {GITLAB_JOB}"]


# -- a reader that stops early ------------------------------------------------------------


def test_init_into_a_closed_pipe_writes_every_file_and_ends_quietly(repo: Repo) -> None:
    """``migration-guard init | head -1``: head may be gone before the first line."""
    setup(repo, SUPABASE)
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run([sys.executable, "-m", "migration_guard", "init"], cwd=repo.path,
                          env=repo.env, stdout=write_end, stderr=subprocess.PIPE, check=False)
    os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, b"")
    assert all((repo.path / path).is_file() for path in WRITTEN)
