"""What an Alembic apply run does, decided statically: no alembic, SQLAlchemy or database.

Revision ids and parents are read from the files (no import) to know the base's heads and
which revisions are new. Cheap enough to run before the server starts, and light to
import: the caller starts the server from its cache before loading the heavy libraries.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping

from migration_guard.apply.settings import Settings
from migration_guard.apply.sources import Unit, decode, fingerprint, read_listed
from migration_guard.frameworks.alembic import Revision, build_graph, depths, parse_revision
from migration_guard.git.changeset import ChangeSet
from migration_guard.git.repo import Entry
from migration_guard.projects import Project
from migration_guard.typing_lite import NamedTuple


class AlembicPlan(NamedTuple):
    prelude: list[Unit]
    seed: list[Unit]
    base_heads: list[str]
    new: list[Revision]  # parents first
    cache_key: str
    new_sources: list[bytes]  # the new revision files, for the tables they mention


def _revision_paths(project: Project, files: Mapping[str, Entry]) -> dict[str, str]:
    """Path -> blob id of the files in the project's versions directory that may be
    revisions."""
    fw = project.fw
    return {p: e.oid for p, e in files.items()
            if (rel := project.rel(p)) is not None and fw.is_migration(rel)
            and e.mode.startswith("100")}


def _parse_all(blobs: dict[str, bytes]) -> dict[str, Revision]:
    parsed = (parse_revision(path, data, compile_check=False) for path, data in blobs.items())
    return {r.path: r for r in parsed if isinstance(r, Revision)}


def cache_key(project: Project, changeset: ChangeSet, settings: Settings) -> str | None:
    """What the "base heads applied" state depends on: the prelude, ``alembic.ini``,
    ``env.py``, and the candidate's copies of the base's revision files (a blob id stands
    for a file's content). None when the base has no revision files. Cheap: no revision
    file is read, so the server can start from the cache before the plan is made."""
    candidate = changeset.candidate
    base_paths = _revision_paths(project, changeset.base_files([project.migrations]))
    if not base_paths:
        return None
    prelude = read_listed(settings.options.prelude, candidate.read_many, key="prelude")
    shaping = [p for p in (project.alembic_ini, project.env_py) if p is not None]
    shaping_units = [Unit(p, decode(d)) for p, d in sorted(candidate.read_many(shaping).items())]
    base_units = [Unit(p, candidate.files[p].oid if p in candidate.files else "")
                  for p in sorted(base_paths)]
    return fingerprint("python-revisions", prelude, shaping_units, base_units)


def plan(project: Project, changeset: ChangeSet, settings: Settings) -> AlembicPlan:
    candidate = changeset.candidate
    current_ids = _revision_paths(project, candidate.files)
    base_files = changeset.base_files([project.migrations])
    base_ids = _revision_paths(project, base_files)
    by_path = _parse_all(candidate.read_many(current_ids))
    # A merged revision is most often the same blob in both trees: parse it once.
    base = [by_path[p] for p, oid in base_ids.items() if current_ids.get(p) == oid
            and p in by_path]
    differing = {p: e for p, e in base_files.items()
                 if p in base_ids and current_ids.get(p) != base_ids[p]}
    base += _parse_all(changeset.read_base(differing)).values()
    graph = build_graph(by_path.values())
    merged = {r.id for r in base}
    depth = depths(graph.revisions)
    new = sorted((r for r in graph.revisions.values() if r.id not in merged),
                 key=lambda r: (depth[r.id], r.path))
    return AlembicPlan(
        prelude=read_listed(settings.options.prelude, candidate.read_many, key="prelude"),
        seed=read_listed(settings.options.seed, candidate.read_many, key="seed"),
        base_heads=build_graph(base).heads, new=new,
        cache_key=cache_key(project, changeset, settings) or "",
        new_sources=[candidate.read(r.path) or b"" for r in new],
    )


def names_in_strings(sources: list[bytes]) -> set[str] | None:
    """Identifiers inside the string literals of Python sources (table names passed to
    ``op.*`` or written in ``op.execute`` SQL); None when a source does not parse, so
    that every table is filled with sample rows."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", node.value))
    return names
