"""The apply check of one project: choose the framework's runner, open the server, run.

One server per project run: its cached "base applied" state is keyed by that project's
base migrations. Findings carry the check and project names; nothing is printed.
"""

from __future__ import annotations

from pathlib import Path

from migration_guard.apply import alembicproject, sqlproject
from migration_guard.apply.settings import Deadline, Settings
from migration_guard.apply.sources import fingerprint
from migration_guard.changeset import ChangeSet
from migration_guard.db.provider import open_server
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.projects import Project

CHECK = "apply"


def run_apply(project: Project, changeset: ChangeSet, settings: Settings, *,
              cache_dir: Path | None = None) -> Outcome:
    deadline = Deadline(settings.database.run_timeout)
    if project.framework == "alembic":
        work_a = alembicproject.plan(project, changeset, settings)
        key = work_a.cache_key if work_a.base_heads else None
    else:
        work_s = sqlproject.plan(project, changeset, settings)
        key = fingerprint("sql", project.framework, work_s.prelude, work_s.prefix) \
            if work_s.prefix else None
    database = settings.database
    with open_server(database_url=database.url, cache_dir=cache_dir,
                     snapshot_key=key if database.cache else None,
                     connect_timeout_s=database.connect_timeout,
                     start_timeout_s=database.start_timeout) as server:
        if project.framework == "alembic":
            findings, notes = alembicproject.run_alembic_project(
                project, changeset, server, work_a, settings, deadline)
        else:
            findings, notes = sqlproject.run_sql_project(project, server, work_s, settings,
                                                         deadline)
    return _outcome(project, findings, notes)


def _outcome(project: Project, findings: list[Finding], notes: list[Note]) -> Outcome:
    return Outcome(
        CHECK, project.name,
        [f._replace(check=CHECK, project=project.name) for f in findings],
        [n._replace(check=CHECK, project=project.name) for n in notes])
