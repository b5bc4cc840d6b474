"""End to end: real pre-commit installs this checkout's hooks; real ``git commit`` runs them.

The hook repository is a snapshot of this working tree committed into a temporary repo,
so the test exercises the code as it is now, not as it was at HEAD.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, Repo, clean_env
from layouts import BY_NAME, revision, setup

pytestmark = pytest.mark.slow
HOOKS = ("migrations-required", "migrations-immutable", "migrations-linear")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Path]]:
    base = tmp_path_factory.mktemp("hooks")
    home = base / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = T\n\temail = t@example.com\n")
    env = clean_env(home)
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.split(b"\0")
    snapshot = base / "migration-guard"
    for raw in listed:
        if not raw:
            continue
        source = ROOT / raw.decode()
        if source.is_file():
            target = snapshot / raw.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    hooks = Repo(snapshot, env)
    hooks.git("init", "-q", "-b", "main")
    rev = hooks.commit("snapshot of the working tree")
    yield snapshot, rev, base / "pre-commit-home"


@pytest.fixture
def project(repo: Repo, hook_repo: tuple[Path, str, Path]) -> Repo:
    snapshot, rev, pre_commit_home = hook_repo
    repo.env["PRE_COMMIT_HOME"] = str(pre_commit_home)
    hooks = "".join(f"      - id: {h}\n" for h in HOOKS)
    repo.write(".pre-commit-config.yaml",
               f"repos:\n  - repo: {snapshot}\n    rev: {rev}\n    hooks:\n{hooks}")
    setup(repo, BY_NAME["alembic"])
    pre_commit(repo, "install")
    repo.branch("feature")
    return repo


def pre_commit(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo.path,
                          env=repo.env, capture_output=True, text=True, check=False)


def git_commit(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-m", "change", *args], cwd=repo.path, env=repo.env,
                          capture_output=True, text=True, check=False)


def hook_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if ": MG" in line]


def test_model_change_without_migration_is_blocked(project: Repo) -> None:
    project.append("app/models.py", "\n\nclass Team(Base):\n    __tablename__ = 'teams'\n")
    project.add()
    proc = git_commit(project)
    assert proc.returncode == 1
    assert hook_lines(proc) == [
        "app/models.py: MG101 schema source changed but no migration was added to "
        "migrations/versions/ (modules behind target_metadata in migrations/env.py; judged by "
        "file)"]
    assert project.git("rev-list", "--count", "main..HEAD").strip() == "0"


def test_edit_of_merged_migration_is_blocked(project: Repo) -> None:
    project.append("migrations/versions/0002_users.py", "# tweak\n")
    project.add()
    proc = git_commit(project)
    assert proc.returncode == 1
    assert [line.split(" (")[0] for line in hook_lines(proc)] == [
        "migrations/versions/0002_users.py: MG102 migration edited after it was merged"]


def test_out_of_order_migration_is_blocked(project: Repo) -> None:
    project.write("migrations/versions/0003_branch.py", revision("0003", "0001"))
    project.add()
    proc = git_commit(project)
    assert proc.returncode == 1
    assert {line.split(": ")[1].split(" ")[0] for line in hook_lines(proc)} == {"MG113", "MG114"}


def test_correct_change_is_committed(project: Repo) -> None:
    project.append("app/models.py", "\n\nclass Team(Base):\n    __tablename__ = 'teams'\n")
    project.write("migrations/versions/0003_teams.py", revision("0003", "0002"))
    project.add()
    proc = git_commit(project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert project.git("rev-list", "--count", "main..HEAD").strip() == "1"


def test_no_verify_gets_in_and_range_mode_catches_it(project: Repo) -> None:
    project.append("migrations/versions/0002_users.py", "# tweak\n")
    project.add()
    assert git_commit(project, "--no-verify").returncode == 0
    # The index is still judged against the base: every later commit shows the edit too.
    project.write("README.md", "docs\n")
    project.add()
    assert git_commit(project).returncode == 1
    assert git_commit(project, "--no-verify").returncode == 0
    proc = pre_commit(project, "run", "--hook-stage", "manual", "--from-ref", "main",
                      "--to-ref", "HEAD")
    assert proc.returncode == 1
    assert [line.split(" (")[0] for line in hook_lines(proc)] == [
        "migrations/versions/0002_users.py: MG102 migration edited after it was merged"]
