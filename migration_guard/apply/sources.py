"""Which files a project applies, in which order, read from a snapshot (never the worktree).

SQL frameworks: Drizzle in journal order, Flyway versioned files then repeatables,
golang-migrate's ``.up.sql`` files, everything else by version. A "new" migration is one
whose path is not in the base tree (a Flyway repeatable also when its content changed).
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from migration_guard.errors import GuardError
from migration_guard.frameworks.drizzle import JOURNAL, parse_journal
from migration_guard.gitrepo import Entry
from migration_guard.globs import glob_to_regex
from migration_guard.projects import Project

ReadMany = Callable[[Iterable[str]], dict[str, bytes]]


class Unit(NamedTuple):
    """One migration file to apply: repository path and text."""

    path: str
    text: str


def decode(data: bytes) -> str:
    """The file's text; bytes that are not UTF-8 are kept (as surrogates) so that the
    server sees them as they are and refuses them, as it would from ``psql``."""
    return data.decode("utf-8-sig", errors="surrogateescape")


def _excluded(project: Project, path: str) -> bool:
    return any(glob_to_regex(p).fullmatch(path) for p in project.exclude)


def migration_paths(project: Project, files: Mapping[str, Entry], read_many: ReadMany) -> list[str]:
    """The project's SQL migrations among ``files``, in the order its runner applies them."""
    fw = project.fw
    mine = [p for p in files if (rel := project.rel(p)) is not None
            and (fw.is_migration(rel) or fw.is_repeatable(rel)) and not _excluded(project, p)]
    if project.framework == "golang-migrate":
        mine = [p for p in mine if p.endswith(".up.sql")]
    if project.framework == "flyway":
        mine = [p for p in mine if posixpath.basename(p).startswith(("V", "R"))]
    if project.framework == "drizzle":
        ordered = _journal_order(project, mine, read_many)
        if ordered is not None:
            return ordered

    def key(path: str) -> tuple[bool, tuple[int | str, ...], str]:
        rel = project.rel(path) or path
        version = fw.version(rel)
        return (fw.is_repeatable(rel), version.key if version else (), rel)

    return sorted(mine, key=key)


def _journal_order(project: Project, mine: list[str], read_many: ReadMany) -> list[str] | None:
    journal = f"{project.migrations}/{JOURNAL}"
    data = read_many([journal]).get(journal)
    if data is None:
        return None
    entries = parse_journal(data)
    if not isinstance(entries, list):
        return None
    present = set(mine)
    ordered = [f"{project.migrations}/{e.tag}.sql" for e in sorted(entries, key=lambda e: e.idx)]
    return [p for p in ordered if p in present]


def read_units(paths: list[str], read_many: ReadMany) -> list[Unit]:
    blobs = read_many(paths)
    return [Unit(p, decode(blobs[p])) for p in paths if p in blobs]


def read_listed(paths: tuple[str, ...], read_many: ReadMany, *, key: str) -> list[Unit]:
    """Prelude or seed files named in the config; a missing one cannot be ignored."""
    blobs = read_many(paths)
    missing = [p for p in paths if p not in blobs]
    if missing:
        raise GuardError(f"{key} file not found in the checked snapshot: {', '.join(missing)}",
                         f"add the file to git, or correct `{key}` in the config")
    return [Unit(p, decode(blobs[p])) for p in paths]


def matching(files: Iterable[str], globs: Iterable[str]) -> list[str]:
    patterns = [glob_to_regex(g) for g in globs]
    return sorted(p for p in files if any(r.fullmatch(p) for r in patterns))


def fingerprint(*parts: Iterable[Unit] | str) -> str:
    """A hash of everything that shapes a cached database state."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            digest.update(part.encode() + b"\0")
            continue
        for unit in part:
            digest.update(unit.path.encode() + b"\0"
                          + unit.text.encode("utf-8", "surrogateescape") + b"\1")
        digest.update(b"\2")
    return digest.hexdigest()
