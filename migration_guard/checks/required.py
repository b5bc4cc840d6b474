"""migrations-required: a change to a project's schema sources must add a migration."""

from __future__ import annotations

from migration_guard.config import Config
from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Outcome
from migration_guard.frameworks.alembic_env import schema_sources
from migration_guard.git.changeset import ChangeSet
from migration_guard.globs import glob_to_regex
from migration_guard.projects import Project

CHECK = "required"


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(glob_to_regex(p).fullmatch(path) or path.startswith(p.rstrip("/") + "/")
               for p in patterns)


def _literal_part(pattern: str) -> str:
    """The file or directory a glob stays in: its part before the first wildcard, up to a
    "/" ("" when the glob can match anywhere)."""
    wild = min((i for i in (pattern.find(c) for c in "*?[") if i != -1), default=-1)
    if wild == -1:
        return pattern.rstrip("/")
    return pattern[:wild].rpartition("/")[0]


def resolve_schema(project: Project, changeset: ChangeSet) -> tuple[tuple[str, ...], str]:
    """The project's schema globs and where they came from (env.py is read on demand)."""
    if project.schema is not None:
        return project.schema, project.schema_from
    if project.env_py is None:
        return (), "no schema source"
    files = set(changeset.candidate.paths)
    globs, origin = schema_sources(project.env_py, list(project.module_roots), files,
                                   changeset.candidate.read)
    return tuple(globs), origin


def check(project: Project, changeset: ChangeSet, config: Config) -> Outcome:
    """MG101 for schema sources changed in a change set that adds no migration."""
    fw = project.fw
    if changeset.mode == "all":
        return Outcome(CHECK, project.name, [], [])
    try:
        schema, origin = resolve_schema(project, changeset)
    except GuardError:
        # Unknown schema sources matter only once something outside the migrations changed.
        if all(project.rel(c.path) is not None for c in changeset.changes):
            return Outcome(CHECK, project.name, [], [])
        raise
    if not schema:
        return Outcome(CHECK, project.name, [], [])
    # Only the migrations and the schema sources' files and directories need diffing.
    changes = changeset.changes_in([project.migrations, *map(_literal_part, schema)])
    changed = [c for c in changes if project.rel(c.path) is None and _matches(c.path, schema)]
    if not changed:
        return Outcome(CHECK, project.name, [], [])
    base_files = changeset.base_files([project.migrations])
    for change in changes:
        rel = project.rel(change.path)
        if rel is None or not fw.is_migration(rel):
            continue
        if change.status == "A" or (change.status == "M" and change.path not in base_files):
            return Outcome(CHECK, project.name, [], [])
    findings = [
        Finding(
            "MG101", change.path, None,
            f"schema source {'deleted' if change.status == 'D' else 'changed'} but no migration "
            f"was added to {project.migrations}/ ({origin})",
            f"generate one and stage it: {project.generate_command}",
            check=CHECK, project=project.name,
        )
        for change in changed
    ]
    return Outcome(CHECK, project.name, findings, [])
