"""Rendered SQL of Alembic revisions, cached outside the work tree.

Rendering one revision costs importing alembic and SQLAlchemy (most of a second); the SQL
it prints depends only on what is hashed into the key: the revision's blob, ``env.py``,
``alembic.ini``, the project's other Python modules, and the alembic and SQLAlchemy
versions (read from their files, not imported). A second run of the same commit reads
the SQL back and imports neither. The cache lives in ``lint-sql`` of
:func:`migration_guard.cache.cache_dir`, keeps at most :data:`KEEP` entries, and is best
effort: a directory that cannot be read or written means rendering again, never an error.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable

from migration_guard.cache import find_spec, module_stamp, read_bytes
from migration_guard.cache import key_of as cache_key_of

KEEP = 512
FORMAT = "1"  # bump when what is stored, or how it is rendered, changes
_VERSION = re.compile(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", re.MULTILINE)


def library_version(package: str) -> str:
    """A package's ``__version__`` read from its ``__init__.py`` without importing it;
    else its :func:`~migration_guard.cache.module_stamp` (the file's size and time, or
    "absent" when it is not installed)."""
    spec = find_spec(package)
    if spec is not None and spec.origin is not None:
        try:
            with open(spec.origin, encoding="utf-8") as handle:
                found = _VERSION.search(handle.read(8192))
        except OSError:
            found = None
        if found:
            return found.group(1)
    return module_stamp(package)


def key_of(parts: Iterable[str]) -> str:
    """The key of a rendering whose inputs are ``parts``."""
    return cache_key_of((FORMAT, *parts))


class SqlCache:
    """Rendered SQL by key, in one directory (None: no cache)."""

    def __init__(self, directory: str | None) -> None:
        self.directory = directory

    def load(self, key: str) -> str | None:
        if self.directory is None:
            return None
        try:
            return read_bytes(os.path.join(self.directory, f"{key}.sql")).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def store(self, key: str, sql: str) -> None:
        """Write atomically (a reader sees the whole file or none), then trim the oldest
        entries beyond :data:`KEEP`."""
        if self.directory is None:
            return
        target = os.path.join(self.directory, f"{key}.sql")
        partial = os.path.join(self.directory, f".{key}.{os.getpid()}.tmp")
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            with open(partial, "w", encoding="utf-8") as handle:
                handle.write(sql)
            os.replace(partial, target)
            self._trim()
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(partial)

    def _trim(self) -> None:
        assert self.directory is not None
        entries = [e for e in os.scandir(self.directory) if e.name.endswith(".sql")]
        if len(entries) <= KEEP:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in entries[: len(entries) - KEEP]:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
