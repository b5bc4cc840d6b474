"""The apply check of one project: choose the framework's runner, open the server, run.

One server per project run: its cached "base applied" state is keyed by that project's
base migrations. The server boots in the background while the rest is prepared (for
Alembic, even the imports of alembic and SQLAlchemy). Findings carry the check and
project names; nothing is printed.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from migration_guard.apply import alembic_plan
from migration_guard.apply.server_needs import platform_hint
from migration_guard.apply.settings import Deadline, Settings
from migration_guard.apply.sources import fingerprint
from migration_guard.db.base import Wants
from migration_guard.db.provider import open_server
from migration_guard.db.tempdirs import default_cache_dir
from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.git.changeset import ChangeSet
from migration_guard.projects import Project
from migration_guard.tracing import MigrationTrace

if TYPE_CHECKING:
    from migration_guard.apply.trace import Tracer

CHECK = "apply"


def run_apply(project: Project, changeset: ChangeSet, settings: Settings, *,
              cache_dir: Path | None = None) -> Outcome:
    deadline = Deadline(settings.database.run_timeout)
    cache_root = cache_dir or default_cache_dir()
    tracer: Tracer | None = None  # for Alembic, made once the plan names the new revisions
    wants = Wants(major=settings.postgres.version, strict=settings.postgres.strict,
                  url_role=settings.postgres.url_role)
    extension_hint = ""
    if project.fw.python:
        key = alembic_plan.cache_key(project, changeset, settings)
        wants = wants._replace(extensions=frozenset(_python_extensions(project, changeset)))
    else:
        from migration_guard.apply import sql_project  # pglast: not needed for Alembic

        sql_plan = sql_project.plan(project, changeset, settings)
        key = fingerprint("sql-files", project.framework, sql_plan.prelude, sql_plan.prefix) \
            if sql_plan.prefix else None
        every = {u.path for u in [*sql_plan.prefix, *sql_plan.rest]}
        tracer = _tracer(settings, [u.path for u in sql_plan.new], every.__contains__)
        wants = sql_plan.wants
        extension_hint = platform_hint(wants, sql_plan.preset)
    database = settings.database
    with _fewer_collections(), _hinted(extension_hint), \
            open_server(database_url=database.url, cache_dir=cache_root,
                        snapshot_key=key if database.cache else None,
                        connect_timeout_s=database.connect_timeout,
                        start_timeout_s=database.start_timeout, background=True,
                        wants=wants) as server:
        if project.fw.python:
            # The server boots meanwhile: importing alembic and SQLAlchemy, planning and
            # importing the revision files overlap it.
            from migration_guard.apply import alembic_project

            alembic_steps = alembic_plan.plan(project, changeset, settings)
            tracer = _tracer(settings, [r.path for r in alembic_steps.new],
                             lambda path: project.fw.is_migration(project.rel(path) or ""))
            findings, notes = alembic_project.run_alembic_project(
                project, changeset, server, alembic_steps, settings, deadline,
                cache_root=cache_root, tracer=tracer)
        else:
            findings, notes = sql_project.run_sql_project(project, server, sql_plan, settings,
                                                         deadline, tracer=tracer)
            if not findings:
                notes += [Note(project.migrations, text)
                          for text in sql_project.preset_notes(sql_plan)]
        notes = [Note(project.migrations, f"server: {server.description}; {server.mode}"),
                 *(Note(project.migrations, text) for text in server.notes), *notes]
    return _outcome(project, findings, notes, tracer)


def _python_extensions(project: Project, changeset: ChangeSet) -> set[str]:
    """The extensions the project's Python migrations create, so the server chosen has them
    (or the run exits 2 naming them, as for SQL migrations)."""
    from migration_guard.apply.server_needs import extensions_in_python

    candidate = changeset.candidate
    paths = [p for p in candidate.files
             if (rel := project.rel(p)) is not None and project.fw.is_migration(rel)]
    return extensions_in_python(candidate.read_many(paths))


def _tracer(settings: Settings, new: list[str],
            is_migration: Callable[[str], bool]) -> Tracer | None:
    if settings.options.trace == "off":
        return None  # nothing of the trace is imported
    from migration_guard.apply.trace import tracer_for

    return tracer_for(settings, new, is_migration)


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


def _outcome(project: Project, findings: list[Finding], notes: list[Note],
             tracer: Tracer | None) -> Outcome:
    traces: list[MigrationTrace] = []
    if tracer is not None:
        traces, traced = tracer.result()
        findings = [*findings, *traced]
    return Outcome(
        CHECK, project.name,
        [f._replace(check=CHECK, project=project.name) for f in findings],
        [n._replace(check=CHECK, project=project.name) for n in notes], tuple(traces))
