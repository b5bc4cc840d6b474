"""Drift: the schema the migrations produce against the schema the project declares.

For Alembic, a catalog-level compare of ``metadata.create_all()`` on a second throwaway
database with the migrated one (it sees what autogenerate does not: enum values, CHECK
constraints, triggers, policies ...), and, where they differ, autogenerate's
``compare_metadata`` against env.py's ``target_metadata`` to name the differences. For
SQL frameworks, declarative schema files applied to a second database, compared the same
way. Findings are MG206, one per object.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psycopg

from migration_guard import frameworks
from migration_guard.apply.alembic_child import AlembicChild
from migration_guard.apply.alembic_models import MIGRATED, MODELS
from migration_guard.apply.alembic_run import Handover, sqlalchemy_url
from migration_guard.apply.runner import apply_in, throwaway
from migration_guard.apply.settings import Deadline
from migration_guard.apply.sources import Unit, fingerprint
from migration_guard.config import DatabaseConfig
from migration_guard.db import catalog
from migration_guard.db.base import Database, Server
from migration_guard.db.remote import connect
from migration_guard.errors import GuardError
from migration_guard.findings import Finding

__all__ = ["MIGRATED", "MODELS", "alembic_drift", "declarative_drift", "drift_finding",
           "schema_of"]
CHECK = "apply"
MODELS_CACHE_ENTRIES = 16


def drift_finding(path: str, message: str, hint: str) -> Finding:
    return Finding("MG206", path, None, f"drift: {message}", hint, check=CHECK)


def schema_in(conn: psycopg.Connection[Any], *,
              skip_schemas: Iterable[str] = ()) -> catalog.Schema:
    """The schema of the connected database, without any runner's bookkeeping."""
    tables, schemas = frameworks.bookkeeping()
    return catalog.read_schema(conn, skip_schemas=[*schemas, *skip_schemas], skip_tables=tables)


def schema_of(conninfo: str, *, skip_schemas: Iterable[str] = ()) -> catalog.Schema:
    conn = connect(conninfo)
    try:
        return schema_in(conn, skip_schemas=skip_schemas)
    finally:
        conn.close()


# -- Alembic ----------------------------------------------------------------------------


def alembic_drift(child: AlembicChild, target: Handover, server: Server, migrated: Database,
                  prelude: list[Unit], database: DatabaseConfig, deadline: Deadline, *,
                  cache: Path | None = None) -> list[Finding]:
    """The catalog of ``metadata.create_all()`` against the migrated one, both narrowed to
    what env.py's ``context.configure()`` options have autogenerate compare; where they
    differ, autogenerate's own diffs first (in alembic's words), then what only the
    catalog shows. When the catalogs agree, autogenerate is not run: it compares the same
    models with the same schema."""
    info, failures = child.models(target)
    if failures:
        return failures
    where = child.project.env_py or child.project.migrations
    if not info.has_metadata:
        raise GuardError(f"drift of {child.project.name}: nothing to compare against: "
                         f"{where} passes no target_metadata to context.configure()",
                         "set target_metadata in env.py to the models' MetaData, or turn "
                         "`drift` off for this project")
    expected, trouble = models_schema(child, server, info.ddl, prelude, database, deadline,
                                      cache)
    if trouble:
        return trouble
    expected, actual, trouble = child.narrow(expected, schema_of(migrated.conninfo))
    if trouble:
        return trouble
    differences = catalog.compare(expected, actual, expected_label=MODELS,
                                  actual_label=MIGRATED)
    if not differences:
        return []
    hint = f"generate a migration for it: {child.project.generate_command}"
    described, failures = child.autogenerate(target)
    if failures:
        return failures
    findings = [drift_finding(where, d, hint) for d in described]
    seen = " ".join(f.message for f in findings)
    findings += [drift_finding(where, d.message, hint) for d in differences
                 if not d.named_in(seen)]
    return findings


def models_schema(child: AlembicChild, server: Server, ddl: list[str] | None,
                  prelude: list[Unit], database: DatabaseConfig, deadline: Deadline,
                  cache: Path | None) -> tuple[catalog.Schema, list[Finding]]:
    """The catalog ``create_all()`` makes after the prelude, kept in ``cache`` under a hash
    of the DDL it emits (rendered without a database), the prelude and the server version:
    unchanged models cost a rendering, not a database of their own."""
    key = _models_key(server, ddl, prelude) if cache is not None else None
    stored = catalog.load(cache / f"models-{key}.json") if cache and key else None
    if stored is not None:
        return stored, []
    with throwaway(server) as models_db:
        trouble = apply_in(models_db.conninfo, prelude, None, database, deadline)
        trouble = trouble or child.create_all(sqlalchemy_url(
            models_db.conninfo, statement_timeout_s=deadline.statement_timeout(
                database.statement_timeout), lock_timeout_s=database.lock_timeout))
        if trouble:
            return {}, trouble
        expected = schema_of(models_db.conninfo)
    if cache is not None and key is not None:
        catalog.store(cache / f"models-{key}.json", expected, keep=MODELS_CACHE_ENTRIES)
    return expected, []


def _models_key(server: Server, ddl: list[str] | None, prelude: list[Unit]) -> str | None:
    if server.build_key is None or ddl is None:
        return None  # a server of unknown settings and extensions: nothing to reuse
    return fingerprint("models", catalog.VERSION, server.build_key, prelude,
                       [Unit(str(i), s) for i, s in enumerate(ddl)])[:32]


# -- SQL frameworks ---------------------------------------------------------------------


def declarative_drift(server: Server, migrated: Database, prelude: list[Unit],
                      declared: list[Unit], database: DatabaseConfig,
                      deadline: Deadline) -> list[Finding]:
    """Apply the declarative schema files to a second database and compare."""
    if not declared:
        return []
    label = "the declarative schema"
    where = declared[0].path
    with throwaway(server) as declared_db:
        trouble = apply_in(declared_db.conninfo, [*prelude, *declared], None, database,
                           deadline)
        if trouble:
            return trouble
        differences = catalog.compare(schema_of(declared_db.conninfo),
                                      schema_of(migrated.conninfo),
                                      expected_label=label, actual_label=MIGRATED)
    hint = "add a migration that brings the schema in line with the declarative files"
    return [drift_finding(where, d.message, hint) for d in differences]
