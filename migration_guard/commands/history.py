"""The ``history`` command: each project's newest migrations, in the framework's order, with
the author, date and commit that added them, read from one ``git log`` over all projects.

The migrations listed are the ones in the index, so a staged new migration shows up as
``(uncommitted)``. A migration renamed after it was added is credited to the commit that
first added it (the path it was added under is ``renamed_from`` in the JSON output).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Sequence
from typing import IO, Any

from migration_guard.errors import GuardError
from migration_guard.git.changeset import Snapshot
from migration_guard.git.repo import Addition, Git
from migration_guard.projects import Project
from migration_guard.report.common import count as counted
from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import argparse

SUMMARY = "the newest migrations with the author, date and commit that added them"
UNCOMMITTED = "(uncommitted)"
UNKNOWN = "(unknown)"  # in HEAD, but git log shows no addition (e.g. an evil merge)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser("history", help=SUMMARY, description=SUMMARY)
    sub.add_argument("-n", dest="count", type=int, default=10, metavar="N",
                     help="how many migrations per project (default 10; 0 for all)")
    sub.add_argument("--project", help="only this project (its name or migrations directory)")
    sub.add_argument("--format", choices=("text", "json"), default="text",
                     help="output format (default text)")
    sub.add_argument("--config", help="config file (default .migration-guard.yaml or "
                     "[tool.migration-guard] in pyproject.toml)")
    sub.add_argument("-C", dest="directory", default=".",
                     help="run as if started in this directory")


class Migration(NamedTuple):
    path: str
    version: str
    name: str
    order: tuple[Any, ...]  # ascending: oldest first
    added: Addition | None
    uncommitted: bool


class ProjectHistory(NamedTuple):
    project: Project
    total: int
    newest: list[Migration]


def history(git: Git, project_name: str | None, count: int,
            config_path: str | None) -> list[ProjectHistory]:
    """The newest ``count`` migrations (0: all) of each project, or of the one named."""
    from migration_guard.config import load_config
    from migration_guard.projects import from_config

    if count < 0:
        raise GuardError(f"-n {count}: must be 0 or more", "give -n a count, or 0 for all")
    index = Snapshot(git, None, "the index")
    config = load_config(index.read, config_path)
    projects = from_config(config, list(index.files), index.read, index.read_many)
    projects = _select(projects, project_name)
    head = git.head()
    committed = set(git.ls_tree(head, [p.migrations for p in projects])) if head else set()
    added = _first_additions(git.additions([p.migrations for p in projects]))
    found: list[ProjectHistory] = []
    for project in projects:
        migrations = _migrations(project, index)
        ordered = [m._replace(added=added.get(m.path), uncommitted=m.path not in committed)
                   for m in sorted(migrations, key=lambda m: m.order, reverse=True)]
        found.append(ProjectHistory(project, len(ordered), ordered[:count] if count else ordered))
    return found


def _select(projects: list[Project], name: str | None) -> list[Project]:
    if not projects:
        raise GuardError("no migrations project found in this repository",
                         "run it in a repository with migrations, or list `projects:` in "
                         ".migration-guard.yaml")
    from migration_guard.projects import select

    return select(projects, name)


def _first_additions(additions: list[Addition]) -> dict[str, Addition]:
    """For each path, the commit that first added the file now there, following renames
    back through the newest-first log."""
    found: dict[str, Addition] = {}
    seeking: dict[str, tuple[str, str | None]] = {}  # older path -> (path now, older path)
    for event in additions:
        now, renamed_from = seeking.pop(event.path, (event.path, None))
        if now in found:
            continue  # an older event for a path whose newest addition is known
        if event.renamed_from is None:
            found[now] = event._replace(path=now, renamed_from=renamed_from)
        else:
            seeking[event.renamed_from] = (now, event.renamed_from)
    return found


def _migrations(project: Project, index: Snapshot) -> list[Migration]:
    from migration_guard.globs import matches_any

    fw = project.fw
    found: list[Migration] = []
    rels: dict[str, str] = {}
    for path in project.inside(index.files):
        rel = project.rel(path) or ""
        if not fw.is_migration(rel) or matches_any(rel, project.exclude):
            continue
        if fw.is_repeatable(rel) or fw.version_group(rel) in ("down", "U"):
            continue  # not a step of its own in the order
        rels[path] = rel
    if project.fw.python:
        return _alembic_migrations(rels, index.read_many(rels))
    for path, rel in rels.items():
        version = fw.version(rel)
        assert version is not None
        found.append(Migration(path, version.text, _sql_name(rel), (version.key, rel), None,
                               False))
    return found


_SQL_SUFFIX = re.compile(r"(?:\.(?:up|down))?\.sql$")
_SQL_VERSION = re.compile(r"^[VU]?\d+(?:[._]\d+)*(?:__|[_.-])?")


def _sql_name(rel: str) -> str:
    """The description part of a migration's file (or, for Prisma, directory) name."""
    stem = posixpath.dirname(rel) if rel.endswith("/migration.sql") else posixpath.basename(rel)
    return _SQL_VERSION.sub("", _SQL_SUFFIX.sub("", stem), count=1)


# The first line of the module docstring: Alembic's template puts the message there.
_DOCSTRING = re.compile(r"\A(?:[ \t]*#[^\n]*\n|[ \t]*\n)*[rRuU]?(?:\"{3}|'{3})[ \t]*([^\n]*)")


def _alembic_migrations(rels: dict[str, str], texts: dict[str, bytes]) -> list[Migration]:
    """Alembic revisions, ordered by their depth in the revision graph (root first)."""
    from migration_guard.frameworks.alembic import Revision, depths, parse_revision

    revisions: dict[str, Revision] = {}
    unreadable: dict[str, str] = {}
    for path in rels:
        parsed = parse_revision(path, texts.get(path, b""), compile_check=False)
        if isinstance(parsed, Revision):
            revisions.setdefault(parsed.id, parsed)
        else:
            unreadable[path] = parsed.reason
    depth = depths(revisions)
    found = []
    for rid, rev in revisions.items():
        text = texts.get(rev.path, b"").decode("utf-8-sig", "replace")
        match = _DOCSTRING.match(text)
        slug = posixpath.basename(rev.path).removesuffix(".py").removeprefix(f"{rid}_")
        message = match.group(1).rstrip().removesuffix('"""').removesuffix("'''").strip() \
            if match else ""
        found.append(Migration(rev.path, rid, message or slug, (depth[rid], rid), None, False))
    for path, reason in unreadable.items():
        found.append(Migration(path, posixpath.basename(path).removesuffix(".py"),
                               f"(unreadable: {reason})", (-1, path), None, False))
    return found


# -- output -----------------------------------------------------------------------------


def _heading(found: ProjectHistory) -> str:
    project = found.project
    where = f"{project.migrations}/ ({project.framework})"
    if project.name != project.migrations:
        where = f"{project.name}: {where}"
    if not found.total:
        return f"{where}: no migrations yet"
    return f"{where}: {len(found.newest)} of {counted(found.total, 'migration')}, newest first"


def _row(m: Migration) -> list[str]:
    if m.added is None:
        return [m.version, "", UNCOMMITTED if m.uncommitted else UNKNOWN, "", m.name]
    return [m.version, m.added.date[:10], m.added.commit[:12], m.added.author, m.name]


def render_text(found: Sequence[ProjectHistory], out: IO[str]) -> None:
    blocks = []
    for project in found:
        rows = [_row(m) for m in project.newest]
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(4)]
        lines = [_heading(project)]
        lines += ["  " + "  ".join([*(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)),
                                    r[4]]).rstrip() for r in rows]
        blocks.append("\n".join(lines) + "\n")
    out.write("\n".join(blocks))


def render_json(found: Sequence[ProjectHistory], out: IO[str]) -> None:
    document = {"projects": [{
        "name": p.project.name, "framework": p.project.framework,
        "directory": p.project.migrations, "total": p.total,
        "migrations": [{
            "version": m.version, "name": m.name, "path": m.path,
            "commit": m.added.commit if m.added else None,
            "author": m.added.author if m.added else None,
            "email": m.added.email if m.added else None,
            "date": m.added.date if m.added else None,
            "renamed_from": m.added.renamed_from if m.added else None,
            "uncommitted": m.uncommitted,
        } for m in p.newest],
    } for p in found]}
    out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def run(args: argparse.Namespace, environ: dict[str, str], out: IO[str]) -> int:
    from migration_guard.git.repo import Git

    git = Git.discover(os.path.abspath(args.directory), environ)
    found = history(git, args.project, args.count, args.config)
    (render_json if args.format == "json" else render_text)(found, out)
    return 0
