"""Whether the config the work tree holds is the one a staged run reads.

A run over the staged change reads the config from the index, as it reads everything it
judges: an edit of ``.migration-guard.yaml`` that is not staged yet does not count. That is
right, and surprising when nobody says so: the header names the staged config then.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from migration_guard.config import PYPROJECT_NAME, YAML_NAME, Config, load_config
from migration_guard.errors import GuardError

Reader = Callable[[str], "bytes | None"]


def disk_reader(root: str) -> Reader:
    """Files of the work tree below ``root``, by repository-relative path (None: missing)."""
    def read(rel: str) -> bytes | None:
        try:
            with open(os.path.join(root, *rel.split("/")), "rb") as handle:
                return handle.read()
        except OSError:
            return None
    return read


def unstaged_config_note(staged: Config, read_staged: Reader, read_worktree: Reader,
                         explicit: str | None) -> str:
    """``""`` when the work tree's config means what the staged one does; else the words
    for the header saying the staged config was used."""
    paths = [explicit] if explicit else [YAML_NAME, PYPROJECT_NAME]
    differing = [p for p in paths if read_staged(p) != read_worktree(p)]
    if not differing:
        return ""
    try:
        unstaged: Config | None = load_config(read_worktree, explicit)
    except GuardError:
        unstaged = None  # broken in the work tree: not what runs, say so
    if unstaged is not None and unstaged._replace(source=None) == staged._replace(source=None):
        return ""  # another section of pyproject.toml, a comment: nothing the run would use
    if staged.source is None:
        return f"config: none staged (the unstaged {differing[0]} is not used)"
    return f"config: {staged.source} as staged (its unstaged changes are not used)"
