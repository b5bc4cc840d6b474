"""The base of a CI run, found from the commit graph GitHub Actions checked out.

``pull_request`` checks out a test merge commit: its first parent is the base branch tip
it was merged into (``pull_request.base.sha`` can be stale), and its second parent must
be the PR head. ``merge_group`` names its base. ``push`` compares with the commit before
it; a new branch (all-zero ``before``) or a forced update whose ``before`` is gone is an
explicit error rather than a silent pass. In a shallow checkout the commits these need are
fetched when allowed (see :mod:`migration_guard.git.shallow`).
"""

from __future__ import annotations

import json

from migration_guard.errors import GuardError
from migration_guard.git.repo import Git
from migration_guard.git.shallow import Shallow
from migration_guard.typing_lite import NamedTuple

ZERO = "0" * 40
FORCED_HINT = "after a forced update pass --base origin/main"


class CiBase(NamedTuple):
    ref: str  # the base commit
    origin: str  # why it is the base
    head_origin: str  # what HEAD is, for the report's header


def _event(path: str | None) -> dict[str, object]:
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        raise GuardError(f"cannot read the GitHub event payload {path}: {error}",
                         "run inside GitHub Actions, or pass --base") from None
    return data if isinstance(data, dict) else {}


def _get(data: dict[str, object], *keys: str) -> str | None:
    current: object = data
    for key in keys:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current if isinstance(current, str) else None


def github_base(git: Git, environ: dict[str, str], shallow: Shallow) -> CiBase | None:
    """The base for this GitHub Actions run, or None outside GitHub Actions."""
    if environ.get("GITHUB_ACTIONS") != "true":
        return None
    name = environ.get("GITHUB_EVENT_NAME", "")
    event = _event(environ.get("GITHUB_EVENT_PATH"))
    head = git.head()
    if name in ("pull_request", "pull_request_target"):
        parents = shallow.parents(head) if head else []
        if len(parents) != 2:
            raise GuardError(
                "pull_request run, but HEAD is not the merge commit GitHub prepared "
                f"({len(parents)} parent(s) here)",
                "check out the default ref of the event (refs/pull/N/merge) with "
                "fetch-depth: 2 or more, or pass --base",
            )
        expected = _get(event, "pull_request", "head", "sha")
        if expected and parents[1] != expected:
            raise GuardError(
                f"the merge commit's second parent {parents[1][:12]} is not the pull "
                f"request head {expected[:12]}",
                "re-run the workflow on the current merge commit",
            )
        return CiBase(parents[0], "pull request base: first parent of the merge commit",
                      f"merge of pull request head {parents[1][:12]} into the base")
    if name == "merge_group" and head:
        base = _get(event, "merge_group", "base_sha")
        if base:
            shallow.commit(base, f"the merge group base {base[:12]} is not in this repository")
            shallow.ancestry(base, head)
            return CiBase(base, "merge group base", "the merge group's commit")
    if name == "push" and head:
        before = _get(event, "before")
        if before is None or before == ZERO:
            raise GuardError(
                "push of a new branch: there is no previous commit to compare with",
                "pass --base origin/main (the branch it was cut from)",
            )
        shallow.commit(before, f"the commit before this push ({before[:12]}) is not here: a "
                       "forced update, or history too shallow", FORCED_HINT)
        shallow.ancestry(before, head)
        return CiBase(before, "the commit before the push", "the pushed commit")
    return None
