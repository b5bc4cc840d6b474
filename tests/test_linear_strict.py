"""Strict linear history (``linear: {strict: true}``): an Alembic history is one chain."""

from __future__ import annotations

from conftest import Repo
from layouts import BY_NAME, branched_and_merged, revision, setup

STRICT = "linear:\n  strict: true\n"
V = "migrations/versions"


def test_merge_revision_passes_without_strict_mode(repo: Repo) -> None:
    branched_and_merged(repo, "")
    result = repo.mg("linear")
    assert (result.code, result.err) == (0, ""), result.out


def test_merge_revision_fails_under_strict_linear(repo: Repo) -> None:
    branched_and_merged(repo, STRICT)
    result = repo.mg("linear")
    assert result.code == 1, result.out + result.err
    branch = ("MG125 revision 0002 is the down_revision of 2 revisions: "
              f"0003a ({V}/0003a_left.py), 0003b ({V}/0003b_right.py); strict linear history "
              "allows one")
    rebase = ("  hint: rebase this revision onto the newest one: set its down_revision to the "
              "current head (alembic heads)")
    assert result.lines[1:] == [
        f"{V}/0003a_left.py:5: {branch}", rebase,
        f"{V}/0003b_right.py:5: {branch}", rebase,
        f"{V}/0004_merge.py:5: MG124 revision 0004 merges 0003a, 0003b: strict linear "
        "history allows no merge revisions",
        "  hint: delete the merge revision and rebase one branch onto the other: set the "
        "down_revision of its first revision to the other branch's head",
        "3 findings (linear over 1 project)",
    ]


def test_branch_point_in_the_base_is_reported_at_every_child(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.commit("fork", f"{V}/0003a_left.py", revision("0003a", "0002"),
                f"{V}/0003b_right.py", revision("0003b", "0002"),
                f"{V}/0004_merge.py", revision("0004", None).replace(
                    "down_revision = None", "down_revision = ('0003a', '0003b')"))
    repo.commit("strict", ".migration-guard.yaml", STRICT)
    repo.branch("feature")
    repo.write(f"{V}/0005_next.py", revision("0005", "0004"))
    repo.add()
    result = repo.mg("linear")
    assert result.code == 1
    assert [line.split(" ", 2)[:2] for line in result.lines[1:-1]
            if not line.startswith("  ")] == [
        [f"{V}/0003a_left.py:5:", "MG125"], [f"{V}/0003b_right.py:5:", "MG125"],
        [f"{V}/0004_merge.py:5:", "MG124"]]


def test_a_chain_passes_strict_linear(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.commit("strict", ".migration-guard.yaml", STRICT)
    repo.branch("feature")
    repo.write(f"{V}/0003_next.py", revision("0003", "0002"))
    repo.write(f"{V}/0004_then.py", revision("0004", "0003"))
    repo.add()
    result = repo.mg("linear")
    assert (result.code, result.err) == (0, ""), result.out


def test_project_setting_overrides_the_top_level_one(repo: Repo) -> None:
    branched_and_merged(repo, STRICT + "projects:\n  - alembic_ini: alembic.ini\n"
                        "    linear:\n      strict: false\n")
    result = repo.mg("linear")
    assert (result.code, result.err) == (0, ""), result.out
