"""Write part of a snapshot into a private temporary directory, for tools that read files.

Alembic reads ``alembic.ini``, ``env.py``, revisions and the model modules from disk. In
staged mode those must be the staged bytes, not the working tree, and the working tree
must never be touched: so they are exported from the snapshot into a temporary directory
(on ``/dev/shm`` when it is writable: creating a thousand small files there is cheap).
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Iterable
from pathlib import Path

from migration_guard.errors import GuardError
from migration_guard.git.changeset import Snapshot


def export_files(snapshot: Snapshot, paths: Iterable[str], target: Path) -> list[Path]:
    """Write the given snapshot paths below ``target`` (regular files only); return the
    files written."""
    contents = snapshot.read_many(list(paths))
    root = str(target)
    made: set[str] = set()
    written: list[Path] = []
    for rel, data in contents.items():
        if not _is_plain(rel):
            raise GuardError(f"refusing to export {rel!r}: it points outside the export",
                             "check the repository for unusual paths")
        parent = posixpath.dirname(rel)
        if parent not in made:
            os.makedirs(posixpath.join(root, parent), exist_ok=True)
            made.add(parent)
        destination = posixpath.join(root, rel)
        mode = 0o755 if snapshot.files[rel].mode == "100755" else 0o644
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        written.append(Path(destination))
    return written


def _is_plain(rel: str) -> bool:
    """A relative path of plain components: ``target / rel`` stays below ``target``.

    Symlinks cannot redirect a write: only regular files are exported, and a snapshot
    cannot hold both a symlink ``a`` and a file ``a/b``.
    """
    return not rel.startswith("/") and all(p not in ("", ".", "..") for p in rel.split("/"))


def python_project_files(snapshot: Snapshot, root: str) -> list[str]:
    """The files an Alembic project may need: its config, Python modules and templates."""
    prefix = f"{root}/" if root else ""
    wanted = (".py", ".ini", ".mako", ".toml", ".cfg")
    return [p for p in snapshot.files if p.startswith(prefix) and p.endswith(wanted)]


def private_parent() -> str | None:
    """``/dev/shm`` when this process may write there, else the default temp directory."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def temporary_directory(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=prefix, dir=private_parent())
