"""Base resolution inside GitHub Actions, on a pull-request-shaped repository."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Repo
from layouts import BY_NAME, setup

INIT = "supabase/migrations/20240101000000_init.sql"


def github_env(repo: Repo, tmp_path: Path, name: str, event: dict[str, object]) -> dict[str, str]:
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps(event))
    return dict(repo.env, GITHUB_ACTIONS="true", GITHUB_EVENT_NAME=name,
                GITHUB_EVENT_PATH=str(payload))


def pr_merge_commit(repo: Repo) -> tuple[str, str]:
    """main moves on after the branch point; HEAD is main merged with the PR head."""
    setup(repo, BY_NAME["supabase"])
    repo.branch("pr")
    repo.append(INIT, "-- sneaked in with --no-verify\n")
    head = repo.commit("edit merged migration")
    repo.checkout("main")
    base = repo.commit("main moved on", "supabase/migrations/20240109000000_x.sql", "select 1;\n")
    repo.git("checkout", "-q", "--detach", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merge pr", head)
    return base, head


def test_pull_request_uses_the_merge_commits_first_parent(repo: Repo, tmp_path: Path) -> None:
    base, head = pr_merge_commit(repo)
    env = github_env(repo, tmp_path, "pull_request", {"pull_request": {"head": {"sha": head}}})
    result = repo.mg("check", env=env)
    assert result.code == 1
    assert result.lines[0].startswith(
        f"migration-guard: base: {base} at {base[:12]} (pull request base: first parent of "
        "the merge commit)")
    assert result.lines[1].startswith(f"{INIT}: MG102 migration edited after it was merged")


def test_pull_request_head_mismatch_is_exit_2(repo: Repo, tmp_path: Path) -> None:
    pr_merge_commit(repo)
    env = github_env(repo, tmp_path, "pull_request", {"pull_request": {"head": {"sha": "f" * 40}}})
    result = repo.mg("check", env=env)
    assert result.code == 2
    assert "is not the pull request head ffffffffffff" in result.err


def test_push_of_a_new_branch_is_explicit(repo: Repo, tmp_path: Path) -> None:
    setup(repo, BY_NAME["supabase"])
    env = github_env(repo, tmp_path, "push", {"before": "0" * 40})
    result = repo.mg("check", env=env)
    assert result.code == 2
    assert result.err.splitlines() == [
        "migration-guard: error: push of a new branch: there is no previous commit to compare "
        "with",
        "  hint: pass --base origin/main (the branch it was cut from)",
    ]


def test_push_compares_with_the_commit_before(repo: Repo, tmp_path: Path) -> None:
    setup(repo, BY_NAME["supabase"])
    before = repo.git("rev-parse", "HEAD").strip()
    repo.append(INIT, "-- edit on main\n")
    repo.commit("direct push editing a merged migration")
    env = github_env(repo, tmp_path, "push", {"before": before})
    result = repo.mg("immutable", env=env)
    assert result.code == 1
    assert result.lines[1].startswith(f"{INIT}: MG102")
