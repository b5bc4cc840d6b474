"""Compiled revision modules kept across runs, so a thousand revisions are not recompiled.

Alembic imports every revision file on each run, from a fresh private directory; without
help, Python compiles each one again every time (about half the cost of loading them).
Each file's bytecode is kept in the cache under a hash of its source and written next to
the exported file as a checked hash-based ``.pyc`` (PEP 552): the interpreter itself
verifies the source hash before using it, so a stale or foreign entry can never run.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import py_compile
import sys
from collections.abc import Iterable
from pathlib import Path


def cache_dir_for(cache_root: Path) -> Path | None:
    tag = sys.implementation.cache_tag
    return None if tag is None else cache_root / f"bytecode-{tag}"


def prime(sources: Iterable[tuple[Path, bytes]], cache: Path | None) -> None:
    """Put a ``.pyc`` beside each exported source, from ``cache`` or freshly compiled."""
    if cache is None or sys.pycache_prefix is not None:
        return  # a pycache prefix would send the files outside our private directory
    root = str(cache)
    made: set[str] = set()
    for source, data in sources:
        pyc = importlib.util.cache_from_source(str(source))
        key = hashlib.sha256(data).hexdigest()
        entry = f"{root}/{key[:2]}/{key}"
        try:
            with open(entry, "rb") as cached:
                compiled = cached.read()
        except OSError:
            _compile_into_cache(source, Path(pyc), Path(entry))
            continue
        folder = os.path.dirname(pyc)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(pyc, "wb") as out:
            out.write(compiled)


def _compile_into_cache(source: Path, pyc: Path, entry: Path) -> None:
    try:
        py_compile.compile(str(source), cfile=str(pyc), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    except (py_compile.PyCompileError, OSError, ValueError):
        return  # the import reports a syntax error at its line; a cache problem is no error
    with contextlib.suppress(OSError):
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
        staging.write_bytes(pyc.read_bytes())
        staging.replace(entry)
