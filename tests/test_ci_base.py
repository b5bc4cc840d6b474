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
    merge = repo.git("rev-parse", "HEAD").strip()
    assert result.code == 1
    assert result.lines[0] == (
        f"migration-guard: base: {base[:12]} (pull request base: first parent of the merge "
        f"commit); checked: HEAD at {merge[:12]} (merge of pull request head {head[:12]} into "
        "the base)")
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


# -- shallow checkouts: deepened from origin when it can be, else exit 2 with the fix ------


def shallow_clone(repo: Repo, tmp_path: Path, branch: str, depth: int = 1) -> Repo:
    """``git clone --depth N`` over file:// (a real transport: file paths would hardlink)."""
    target = tmp_path / f"clone-{branch}-{depth}"
    repo.git("clone", "-q", f"--depth={depth}", "--branch", branch, "--no-tags",
             f"file://{repo.path}", str(target))
    clone = Repo(target, repo.env)
    clone.git("checkout", "-q", "--detach")
    assert clone.git("rev-parse", "--is-shallow-repository").strip() == "true"
    return clone


def repository_state(clone: Repo) -> tuple[str, str, bool]:
    """What a check may never change: refs, index and work tree, and FETCH_HEAD's absence."""
    return (clone.git("for-each-ref", "--format=%(refname) %(objectname)"),
            clone.git("status", "--porcelain=v1", "--untracked-files=all"),
            (clone.path / ".git" / "FETCH_HEAD").exists())


def test_shallow_pull_request_checkout_is_deepened_from_origin(
    repo: Repo, tmp_path: Path
) -> None:
    base, head = pr_merge_commit(repo)
    repo.git("branch", "pull-1-merge")
    clone = shallow_clone(repo, tmp_path, "pull-1-merge")
    merge = clone.git("rev-parse", "HEAD").strip()
    before = repository_state(clone)
    env = github_env(clone, tmp_path, "pull_request", {"pull_request": {"head": {"sha": head}}})
    result = clone.mg("check", env=env)
    assert result.code == 1, result.err
    assert result.lines[0] == (
        f"migration-guard: base: {base[:12]} (pull request base: first parent of the merge "
        f"commit); checked: HEAD at {merge[:12]} (merge of pull request head {head[:12]} into "
        "the base)")
    assert result.lines[1].startswith(f"{INIT}: MG102 migration edited after it was merged")
    assert repository_state(clone) == before
    # One generation was fetched: the parents are the new shallow boundary.
    assert clone.git("rev-list", "--parents", "-n", "1", "HEAD").split() == [merge, base, head]
    shallow = (clone.path / ".git" / "shallow").read_text().split()
    assert sorted(shallow) == sorted([base, head])


def test_shallow_pull_request_checkout_without_a_remote_is_exit_2(
    repo: Repo, tmp_path: Path
) -> None:
    _, head = pr_merge_commit(repo)
    repo.git("branch", "pull-1-merge")
    clone = shallow_clone(repo, tmp_path, "pull-1-merge")
    clone.git("remote", "remove", "origin")
    merge = clone.git("rev-parse", "HEAD").strip()
    env = github_env(clone, tmp_path, "pull_request", {"pull_request": {"head": {"sha": head}}})
    result = clone.mg("check", env=env)
    assert result.code == 2
    assert result.out == ""
    assert result.err.splitlines() == [
        f"migration-guard: error: the parents of {merge[:12]} are not in this shallow clone, "
        "and there is no remote 'origin' to fetch from",
        "  hint: check out with fetch-depth: 0 (actions/checkout), or run: git fetch --no-tags "
        f"--deepen=1 origin {merge}",
    ]


def test_no_fetch_in_github_actions_names_the_fetch_and_the_flag(
    repo: Repo, tmp_path: Path
) -> None:
    _, head = pr_merge_commit(repo)
    repo.git("branch", "pull-1-merge")
    clone = shallow_clone(repo, tmp_path, "pull-1-merge")
    merge = clone.git("rev-parse", "HEAD").strip()
    env = github_env(clone, tmp_path, "pull_request", {"pull_request": {"head": {"sha": head}}})
    result = clone.mg("check", "--no-fetch", env=env)
    assert result.code == 2
    assert result.err.splitlines() == [
        f"migration-guard: error: the parents of {merge[:12]} are not in this shallow clone",
        "  hint: check out with fetch-depth: 0 (actions/checkout), or run: git fetch --no-tags "
        f"--deepen=1 origin {merge}, or pass --fetch",
    ]


def test_shallow_merge_group_fetches_its_base_and_the_history_between(
    repo: Repo, tmp_path: Path
) -> None:
    setup(repo, BY_NAME["supabase"])
    base = repo.git("rev-parse", "HEAD").strip()
    repo.branch("gh-readonly-queue/main/pr-1")
    repo.append(INIT, "-- edited in the queue\n")
    repo.commit("pr 1: edit a merged migration")
    repo.commit("pr 2", "supabase/migrations/20240109000000_x.sql", "select 1;\n")
    clone = shallow_clone(repo, tmp_path, "gh-readonly-queue/main/pr-1")
    env = github_env(clone, tmp_path, "merge_group", {"merge_group": {"base_sha": base}})
    result = clone.mg("immutable", env=env)
    assert result.code == 1, result.err
    assert result.lines[0].startswith(f"migration-guard: base: {base[:12]} (merge group base); "
                                      "checked: HEAD at ")
    assert result.lines[1].startswith(f"{INIT}: MG102")


def test_merge_group_base_origin_does_not_have_is_exit_2(repo: Repo, tmp_path: Path) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.git("branch", "queue")
    clone = shallow_clone(repo, tmp_path, "queue")
    missing = "f" * 40
    env = github_env(clone, tmp_path, "merge_group", {"merge_group": {"base_sha": missing}})
    result = clone.mg("check", env=env)
    assert result.code == 2
    message, hint = result.err.splitlines()
    assert message.startswith(
        "migration-guard: error: the merge group base ffffffffffff is not in this repository; "
        "fetching from origin failed: fatal: ")
    assert hint == ("  hint: check out with fetch-depth: 0 (actions/checkout), or run: git fetch "
                    f"--no-tags --depth=1 origin {missing}")


def test_fetch_flag_finds_the_true_merge_base_of_a_diverged_range(
    repo: Repo, tmp_path: Path
) -> None:
    """main moved on after the branch point: the from-ref is not an ancestor of the tip, so
    the clone is deepened until it is complete rather than trusting a merge base found
    behind a shallow boundary."""
    setup(repo, BY_NAME["supabase"])
    fork = repo.git("rev-parse", "HEAD").strip()
    repo.branch("feature")
    repo.append(INIT, "-- edited on the branch\n")
    repo.commit("edit a merged migration")
    repo.commit("more work", "app.txt", "x\n")
    repo.checkout("main")
    main = repo.commit("main moved on", "supabase/migrations/20240109000000_x.sql", "select 1;\n")
    clone = shallow_clone(repo, tmp_path, "feature")
    result = clone.mg("immutable", "--from-ref", main, "--to-ref", "HEAD", "--fetch")
    assert result.code == 1, result.err
    assert result.lines[0].startswith(
        f"migration-guard: base: {main[:12]} (--from-ref), merge base {fork[:12]}; checked: ")
    assert result.lines[1].startswith(f"{INIT}: MG102")
    assert clone.git("rev-parse", "--is-shallow-repository").strip() == "false"


def test_range_in_a_shallow_clone_without_fetch_is_exit_2(repo: Repo, tmp_path: Path) -> None:
    setup(repo, BY_NAME["supabase"])
    first = repo.git("rev-parse", "HEAD").strip()
    repo.commit("more", "app.txt", "x\n")
    repo.git("branch", "feature")
    clone = shallow_clone(repo, tmp_path, "feature")
    result = clone.mg("check", "--from-ref", first, "--to-ref", "HEAD")
    assert result.code == 2
    assert result.err.splitlines() == [
        f"migration-guard: error: base {first} (--from-ref) does not exist in this repository "
        "(the clone is shallow)",
        f"  hint: fetch it: git fetch origin {first}; in CI check out with fetch-depth: 0",
    ]


def test_shallow_push_fetches_the_commit_before_and_the_history_to_it(
    repo: Repo, tmp_path: Path
) -> None:
    setup(repo, BY_NAME["supabase"])
    before = repo.git("rev-parse", "HEAD").strip()
    repo.append(INIT, "-- edit on main\n")
    repo.commit("direct push editing a merged migration")
    clone = shallow_clone(repo, tmp_path, "main")
    env = github_env(clone, tmp_path, "push", {"before": before})
    result = clone.mg("immutable", env=env)
    assert result.code == 1, result.err
    assert result.lines[0].startswith(
        f"migration-guard: base: {before[:12]} (the commit before the push); checked: HEAD at ")
    assert result.lines[1].startswith(f"{INIT}: MG102")
