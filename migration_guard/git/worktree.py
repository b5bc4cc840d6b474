"""The working tree as ``init`` and ``new`` see it: the files on disk that git tracks or
would track (untracked but not ignored), read from disk.

The checks judge the index or a commit; these two commands write files for the user, so
they look where the user looks, including migrations not yet staged.
"""

from __future__ import annotations

import os

from migration_guard.git.repo import Git


class WorkTree:
    def __init__(self, git: Git) -> None:
        self.root = git.toplevel
        # A tracked file deleted from disk is not there for the user any more.
        self.paths = [p for p in git.worktree_paths() if os.path.isfile(self.path(p))]

    def path(self, rel: str) -> str:
        """The absolute path of a repository-relative one."""
        return os.path.join(self.root, *rel.split("/"))

    def read(self, rel: str) -> bytes | None:
        try:
            with open(self.path(rel), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        found = {p: self.read(p) for p in paths}
        return {p: data for p, data in found.items() if data is not None}

    def write(self, rel: str, text: str) -> None:
        """Write ``text`` (LF line ends) to ``rel``, making its directories."""
        target = self.path(rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
