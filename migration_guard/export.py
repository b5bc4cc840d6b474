"""Write part of a snapshot into a private temporary directory, for tools that read files.

Alembic reads ``alembic.ini``, ``env.py``, revisions and the model modules from disk. In
staged mode those must be the staged bytes, not the working tree, and the working tree
must never be touched: so they are exported from the snapshot into a temporary directory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from migration_guard.changeset import Snapshot
from migration_guard.errors import GuardError


def export_files(snapshot: Snapshot, paths: Iterable[str], target: Path) -> None:
    """Write the given snapshot paths below ``target`` (regular files only)."""
    contents = snapshot.read_many(list(paths))
    root = target.resolve()
    for rel, data in contents.items():
        destination = (root / rel).resolve()
        if root not in destination.parents:
            raise GuardError(f"refusing to export {rel!r}: it points outside the export",
                             "check the repository for unusual paths")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
        if snapshot.files[rel].mode == "100755":
            os.chmod(destination, 0o755)


def python_project_files(snapshot: Snapshot, root: str) -> list[str]:
    """The files an Alembic project may need: its config, Python modules and templates."""
    prefix = f"{root}/" if root else ""
    wanted = (".py", ".ini", ".mako", ".toml", ".cfg")
    return [p for p in snapshot.files if p.startswith(prefix) and p.endswith(wanted)]


def temporary_directory(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=prefix)
