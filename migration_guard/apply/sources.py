"""Which files a project applies, in which order, read from a snapshot (never the worktree).

SQL frameworks: the files the runner applies going up, in the order a journal lists them
where the framework keeps one, else by version (repeatables last). A "new" migration is one
whose path is not in the base tree (a Flyway repeatable also when its content changed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

from migration_guard.errors import GuardError
from migration_guard.git.repo import Entry
from migration_guard.globs import glob_to_regex
from migration_guard.projects import Project
from migration_guard.typing_lite import NamedTuple

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
    mine = [p for p in mine if fw.applies(project.rel(p) or p)]
    ordered = fw.listed_order(project.migrations, mine,
                              lambda path: read_many([path]).get(path))
    if ordered is not None:
        return ordered

    def key(path: str) -> tuple[bool, tuple[int | str, ...], str]:
        rel = project.rel(path) or path
        version = fw.version(rel)
        return (fw.is_repeatable(rel), version.key if version else (), rel)

    return sorted(mine, key=key)


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
