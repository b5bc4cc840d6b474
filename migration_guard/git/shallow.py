"""Shallow clones: make present the commits a check compares, or stop with the exact fix.

CI checkouts are often shallow (actions/checkout fetches one commit unless told
``fetch-depth: 0``; GitLab clones 20 deep). Where fetching is allowed (in GitHub Actions,
or with ``--fetch``) the missing commits are fetched from ``origin`` by id; otherwise, or
when the fetch fails, the run stops (exit 2) naming the command that fixes it. A fetch
adds objects and moves the shallow boundary, nothing else (see ``Git.fetch``).

A merge base is only trusted once the base is an ancestor of the tip, or the clone is
complete: in a shallow clone, git can find a wrong merge base behind a boundary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from migration_guard.errors import GuardError
from migration_guard.git.repo import Git

REMOTE = "origin"
CI_FIX = "check out with fetch-depth: 0 (actions/checkout)"
# Commits added below the shallow boundary per attempt before fetching all of history.
DEEPEN_STEPS = (50, 1000)
FULL_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_USERINFO = re.compile(r"(\w+://)[^/@\s]+@")


def _short(commit: str) -> str:
    return commit[:12]


def fix_command(options: Sequence[str], refs: Sequence[str]) -> str:
    return " ".join(["git fetch --no-tags", *options, REMOTE, *refs])


class Shallow:
    """Fetches what a run needs from ``origin``, when ``fetch`` allows it."""

    def __init__(self, git: Git, *, fetch: bool) -> None:
        self.git = git
        self.fetch = fetch

    def _fetch(self, missing: str, options: Sequence[str], refs: Sequence[str],
               hint: str = "") -> None:
        """Run the fetch that supplies ``missing``; GuardError when not allowed or failed."""
        fix = f"{CI_FIX}, or run: {fix_command(options, refs)}"
        if not self.fetch:
            fix += ", or pass --fetch"
        fix += f"; {hint}" if hint else ""
        if not self.fetch:
            raise GuardError(missing, fix)
        if self.git.remote_url(REMOTE) is None:
            raise GuardError(f"{missing}, and there is no remote {REMOTE!r} to fetch from", fix)
        error = self.git.fetch(REMOTE, options, refs)
        if error is not None:
            error = _USERINFO.sub(r"\1***@", error)  # a token in the remote's URL
            raise GuardError(f"{missing}; fetching from {REMOTE} failed: {error}", fix)

    def parents(self, commit: str) -> list[str]:
        """``commit``'s parents, deepening by one generation when it is on the boundary."""
        parents = self.git.parents(commit)
        if parents or commit not in self.git.shallow_commits():
            return parents
        self._fetch(f"the parents of {_short(commit)} are not in this shallow clone",
                    ["--deepen=1"], [commit])
        return self.git.parents(commit)

    def commit(self, sha: str, missing: str, hint: str = "") -> str:
        """The commit ``sha`` (a full id), fetched when it is not here."""
        found = self.git.resolve_commit(sha)
        if found is not None:
            return found
        if not FULL_SHA.fullmatch(sha):
            raise GuardError(missing, hint or f"fetch it: git fetch {REMOTE}")
        # Into a shallow clone, one commit; ancestry() deepens from there as far as needed.
        options = ["--depth=1"] if self.git.is_shallow() else []
        self._fetch(missing, options, [sha], hint)
        found = self.git.resolve_commit(sha)
        if found is None:
            raise GuardError(f"{missing}; origin did not send it", hint or CI_FIX)
        return found

    def ancestry(self, base: str, tip: str) -> None:
        """Enough history that git's merge base of ``base`` and ``tip`` is the true one."""
        if not self.git.is_shallow() or self.git.is_ancestor(base, tip):
            return
        missing = (f"no trustworthy merge base between {_short(base)} and {_short(tip)}: "
                   "the clone is shallow")
        refs = [tip, base]
        for step in DEEPEN_STEPS:
            self._fetch(missing, [f"--deepen={step}"], refs)
            if not self.git.is_shallow() or self.git.is_ancestor(base, tip):
                return
        self._fetch(missing, ["--unshallow"], refs)

    def prepare_range(self, from_ref: str, to_ref: str, base: str | None) -> None:
        """For ``--from-ref``/``--to-ref`` (and ``--base``): fetch what is given by id and
        missing, then the history back to the merge bases. A no-op unless allowed."""
        if not self.fetch:
            return
        tip = self._maybe_commit(to_ref)
        for ref in dict.fromkeys(r for r in (from_ref, base) if r is not None):
            commit = self._maybe_commit(ref)
            if tip is not None and commit is not None:
                self.ancestry(commit, tip)

    def _maybe_commit(self, ref: str) -> str | None:
        found = self.git.resolve_commit(ref)
        if found is None and FULL_SHA.fullmatch(ref):
            return self.commit(ref, f"commit {_short(ref)} is not in this repository")
        return found
