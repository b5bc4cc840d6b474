"""The apply check of one project: choose the framework's runner, open the server, run.

One server per project run: its cached "base applied" state is keyed by that project's
base migrations. The server boots in the background while the rest is prepared (for
Alembic, even the imports of alembic and SQLAlchemy). Findings carry the check and
project names; nothing is printed.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path

from migration_guard.apply import alembic_plan
from migration_guard.apply.server_needs import platform_hint
from migration_guard.apply.settings import Deadline, Settings
from migration_guard.apply.sources import fingerprint
from migration_guard.changeset import ChangeSet
from migration_guard.db.base import Wants
from migration_guard.db.provider import default_cache_dir, open_server
from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.projects import Project

CHECK = "apply"


def run_apply(project: Project, changeset: ChangeSet, settings: Settings, *,
              cache_dir: Path | None = None) -> Outcome:
    deadline = Deadline(settings.database.run_timeout)
    cache_root = cache_dir or default_cache_dir()
    wants = Wants(major=settings.postgres.version, strict=settings.postgres.strict,
                  url_role=settings.postgres.url_role)
    extension_hint = ""
    if project.framework == "alembic":
        key = alembic_plan.cache_key(project, changeset, settings)
    else:
        from migration_guard.apply import sqlproject  # pglast: not needed for Alembic

        work_s = sqlproject.plan(project, changeset, settings)
        key = fingerprint("sql", project.framework, work_s.prelude, work_s.prefix) \
            if work_s.prefix else None
        wants = work_s.wants
        extension_hint = platform_hint(wants, work_s.preset)
    database = settings.database
    with _fewer_collections(), _hinted(extension_hint), \
            open_server(database_url=database.url, cache_dir=cache_root,
                        snapshot_key=key if database.cache else None,
                        connect_timeout_s=database.connect_timeout,
                        start_timeout_s=database.start_timeout, background=True,
                        wants=wants) as server:
        if project.framework == "alembic":
            # The server boots meanwhile: importing alembic and SQLAlchemy, planning and
            # importing the revision files overlap it.
            from migration_guard.apply import alembicproject

            work_a = alembic_plan.plan(project, changeset, settings)
            findings, notes = alembicproject.run_alembic_project(
                project, changeset, server, work_a, settings, deadline, cache_root=cache_root)
        else:
            findings, notes = sqlproject.run_sql_project(project, server, work_s, settings,
                                                         deadline)
            if not findings:
                notes += [Note(project.migrations, text)
                          for text in sqlproject.preset_notes(work_s)]
        notes = [Note(project.migrations, f"server: {server.description}; {server.mode}"),
                 *(Note(project.migrations, text) for text in server.notes), *notes]
    return _outcome(project, findings, notes)


@contextlib.contextmanager
def _hinted(hint: str) -> Iterator[None]:
    """A server missing a platform-only extension: say the platform's ways to get it."""
    try:
        yield
    except GuardError as error:
        if hint and "extension" in error.message:
            raise GuardError(error.message, hint) from None
        raise


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """A run makes many long-lived objects (alembic, SQLAlchemy, the models, a thousand
    revision modules): with the default thresholds the cycle collector scans them again
    and again, up to a tenth of a second each time. Collect young objects less often."""
    threshold = gc.get_threshold()
    gc.set_threshold(20_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def _outcome(project: Project, findings: list[Finding], notes: list[Note]) -> Outcome:
    return Outcome(
        CHECK, project.name,
        [f._replace(check=CHECK, project=project.name) for f in findings],
        [n._replace(check=CHECK, project=project.name) for n in notes])
