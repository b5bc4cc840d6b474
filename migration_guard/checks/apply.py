"""migrations-apply: the project's migrations apply cleanly on a throwaway PostgreSQL.

This module stays cheap to import: it decides whether the change concerns the project
at all (a commit that touches no migration or schema source returns at once) and only
then imports the database engine in :mod:`migration_guard.apply`.
"""

from __future__ import annotations

from migration_guard.config import Config
from migration_guard.errors import GuardError
from migration_guard.findings import Outcome
from migration_guard.git.changeset import ChangeSet
from migration_guard.globs import matches_any
from migration_guard.projects import Project

CHECK = "apply"


def _sources(project: Project, changeset: ChangeSet, config: Config) -> list[str]:
    """Globs of the files whose change makes the apply check worth running."""
    from migration_guard.apply.settings import settings_for
    from migration_guard.checks.required import resolve_schema

    options = settings_for(config, project).options
    globs = [*options.prelude, *options.seed, *options.declarative_schema]
    globs += [p for p in (project.alembic_ini, project.env_py) if p]
    try:
        globs += resolve_schema(project, changeset)[0]
    except GuardError:  # an unreadable env.py: any Python change may matter
        globs.append("**/*.py")
    return globs


def concerns(project: Project, changeset: ChangeSet, config: Config) -> bool:
    if changeset.mode == "all":
        return True
    changed = [c.path for c in changeset.changes]
    if any(project.rel(path) is not None for path in changed):
        return True
    globs = _sources(project, changeset, config)
    return any(matches_any(path, globs) or any(path.startswith(g.rstrip("/") + "/")
                                               for g in globs) for path in changed)


def _refuse_application_env(project: Project, changeset: ChangeSet) -> None:
    from migration_guard.frameworks.alembic_env import needs_application

    data = changeset.candidate.read(project.env_py) if project.env_py else None
    if data is not None and needs_application(data.decode("utf-8", "replace")):
        raise GuardError(
            f"{project.env_py} takes its database and metadata from the Flask application "
            "(flask.current_app): the apply check cannot build that application",
            "run the other checks for this project (`checks:` without apply), or give "
            "it an env.py that reads the URL from DATABASE_URL when no app is running")


def check(project: Project, changeset: ChangeSet, config: Config) -> Outcome:
    if not concerns(project, changeset, config):
        return Outcome(CHECK, project.name, [], [])
    _refuse_application_env(project, changeset)
    from migration_guard.apply.project import run_apply
    from migration_guard.apply.settings import settings_for

    return run_apply(project, changeset, settings_for(config, project))
