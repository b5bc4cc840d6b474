"""Read-only looks at a live database, for the ``status`` and ``drift`` commands.

``status`` lists, per project, the migrations the database has applied and those still
pending, from the runner's own bookkeeping table. ``drift --against URL`` applies the
migrations to a throwaway database and compares its catalog with the live one, read in a
read-only session. Neither ever writes to the live database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

import psycopg

from migration_guard.apply import bytecode
from migration_guard.apply.alembic_child import AlembicChild
from migration_guard.apply.drift import MIGRATED, drift_finding, schema_in, schema_of
from migration_guard.apply.driver import project_driver
from migration_guard.apply.runner import apply_in, throwaway
from migration_guard.apply.settings import Deadline, Settings, settings_for
from migration_guard.apply.sources import migration_paths, read_listed, read_units
from migration_guard.config import Config
from migration_guard.db import catalog
from migration_guard.db.base import Database, Server
from migration_guard.db.provider import open_server
from migration_guard.db.redact import redact_url
from migration_guard.db.remote import connect
from migration_guard.db.tempdirs import default_cache_dir
from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Outcome
from migration_guard.frameworks.alembic import Revision, build_graph, parse_revision
from migration_guard.git.changeset import ChangeSet
from migration_guard.projects import Project

LIVE = "the live database"

@contextlib.contextmanager
def read_only(url: str) -> Iterator[psycopg.Connection[Any]]:
    conn = connect(url)
    try:
        conn.execute("SET default_transaction_read_only = on")
        yield conn
    finally:
        conn.close()


# -- status -----------------------------------------------------------------------------


def status(changes: ChangeSet, projects: Sequence[Project], url: str, out: TextIO) -> int:
    out.write(f"migration-guard: status of {redact_url(url)}\n")
    with read_only(url) as conn:
        for project in projects:
            if project.fw.write_status(conn, project, changes, out):
                continue
            files, revisions = _project_versions(project, changes)
            applied = applied_versions(conn, project, files, revisions)
            _write_status(out, project, files, applied)
    return 0


def _project_versions(project: Project,
                     changes: ChangeSet) -> tuple[dict[str, str], list[Revision]]:
    """Migration path -> the version the runner records for it, in apply order (and the
    Alembic revisions, whose graph tells what an applied head implies)."""
    candidate = changes.candidate
    fw = project.fw
    if fw.python:
        mine = [p for p in candidate.files if project.rel(p) is not None]
        revisions = _alembic_revisions(project, candidate.read_many(mine))
        return {r.path: r.id for r in sorted(revisions, key=lambda r: r.path)}, revisions
    paths = migration_paths(project, candidate.files, candidate.read_many)
    return {p: fw.recorded_version(project.rel(p) or p) for p in paths}, []


def _alembic_revisions(project: Project, blobs: dict[str, bytes]) -> list[Revision]:
    parsed = (parse_revision(p, d, compile_check=False) for p, d in blobs.items()
              if project.fw.is_migration(project.rel(p) or ""))
    return [r for r in parsed if isinstance(r, Revision)]


def _rows(conn: psycopg.Connection[Any], query: str) -> list[tuple[Any, ...]] | None:
    """Rows of a bookkeeping query; None when its table does not exist."""
    try:
        return list(conn.execute(query).fetchall())
    except psycopg.errors.UndefinedTable:
        return None


def applied_versions(conn: psycopg.Connection[Any], project: Project, files: dict[str, str],
                     revisions: list[Revision]) -> set[str] | None:
    """Versions the database records as applied; None when it keeps no record we know."""
    fw = project.fw
    rows = _rows(conn, fw.applied_query) if fw.applied_query else None
    if rows is None:
        return None
    values = {str(r[0]) for r in rows if r[0] is not None}
    if revisions:  # an applied Alembic head implies its ancestors
        graph = build_graph(revisions)
        return values.union(*(graph.ancestors(head) for head in values))
    return fw.applied(values, list(files.values()))


def _write_status(out: TextIO, project: Project, files: dict[str, str],
                  applied: set[str] | None) -> None:
    if applied is None:
        out.write(f"{project.name} ({project.framework}): no migration bookkeeping table "
                  f"found on the database: cannot tell what is applied\n")
        return
    pending = [p for p, v in files.items() if v not in applied]
    out.write(f"{project.name} ({project.framework}): {len(files) - len(pending)} applied, "
              f"{len(pending)} pending\n")
    for path in pending:
        out.write(f"  pending: {path}\n")
    unknown = sorted(applied - set(files.values()))
    for version in unknown:
        out.write(f"  applied but not in the tree: {version}\n")


# -- drift ------------------------------------------------------------------------------


def drift_against(changes: ChangeSet, projects: Sequence[Project], config: Config,
                  target: str, server_url: str | None) -> list[Outcome]:
    """Per project, the differences between ``target`` and the schema the migrations make."""
    outcomes = []
    for project in projects:
        settings = settings_for(config, project)
        settings = settings._replace(database=settings.database._replace(url=server_url))
        outcomes.append(Outcome("drift", project.name,
                                _drift_of(project, changes, settings, target), []))
    return outcomes


def _drift_of(project: Project, changes: ChangeSet, settings: Settings,
              target: str) -> list[Finding]:
    skip = project.fw.platform_schemas
    with read_only(target) as conn:
        live = schema_in(conn, skip_schemas=skip)
    database = settings.database
    with open_server(database_url=database.url, connect_timeout_s=database.connect_timeout,
                     start_timeout_s=database.start_timeout) as server:
        found, migrated = _migrated_schema(project, changes, settings, server, skip,
                                           applied=_applied_on(project, changes, target))
    if found:
        return [f._replace(check="drift", project=project.name) for f in found]
    differences = catalog.compare(migrated, live, expected_label=MIGRATED.replace(
        "database", "schema (from the migrations)"), actual_label=LIVE)
    hint = "add a migration for what the live database has, or fix the live database"
    return [drift_finding(project.migrations, d.message, hint)._replace(
        check="drift", project=project.name) for d in differences]


def _applied_on(project: Project, changes: ChangeSet, target: str) -> set[str] | None:
    """The migrations the live database records as applied, where the framework can tell:
    a pending migration is not drift."""
    with read_only(target) as conn:
        return project.fw.applied_paths(conn, project, changes)


def _migrated_schema(project: Project, changes: ChangeSet, settings: Settings, server: Server,
                     skip: Sequence[str], *, applied: set[str] | None = None
                     ) -> tuple[list[Finding], catalog.Schema]:
    deadline = Deadline(settings.database.run_timeout)
    candidate = changes.candidate
    prelude = read_listed(settings.options.prelude, candidate.read_many, key="prelude")
    with throwaway(server) as db:
        found = apply_in(db.conninfo, prelude, None, settings.database, deadline)
        if not found and project.fw.python:
            found = _alembic_heads(project, changes, settings, db, deadline)
        elif not found:
            paths = migration_paths(project, candidate.files, candidate.read_many)
            units = read_units([p for p in paths if applied is None or p in applied],
                               candidate.read_many)
            found = apply_in(db.conninfo, units, project.fw, settings.database, deadline)
        return found, ({} if found else schema_of(db.conninfo, skip_schemas=skip))


def _alembic_heads(project: Project, changes: ChangeSet, settings: Settings,
                   db: Database, deadline: Deadline) -> list[Finding]:
    if project.alembic_ini is None:
        raise GuardError(f"project {project.name}: no alembic.ini", "set alembic_ini")
    cache = bytecode.cache_dir_for(default_cache_dir())
    with AlembicChild(project, changes.candidate, env_var=settings.options.database_url_env,
                      deadline=deadline, driver=project_driver(project, changes.candidate),
                      bytecode_cache=cache) as ws:
        target = ws.config(db.conninfo, statement_timeout_s=deadline.statement_timeout(
            settings.database.statement_timeout), lock_timeout_s=settings.database.lock_timeout)
        return ws.upgrade(target, "heads")
