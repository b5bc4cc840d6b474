"""Drift: the schema the migrations produce against the schema the project declares.

For Alembic, a catalog-level compare of ``metadata.create_all()`` on a second throwaway
database with the migrated one (it sees what autogenerate does not: enum values, CHECK
constraints, triggers, policies ...), and, where they differ, autogenerate's
``compare_metadata`` against env.py's ``target_metadata`` to name the differences. For
SQL frameworks, declarative schema files applied to a second database, compared the same
way. Findings are MG206, one per object.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from migration_guard import frameworks
from migration_guard.apply.alembic_run import Workspace, sqlalchemy_url
from migration_guard.apply.runner import apply_in, throwaway
from migration_guard.apply.settings import Deadline
from migration_guard.apply.sources import Unit, fingerprint
from migration_guard.config import DatabaseConfig
from migration_guard.db import catalog
from migration_guard.db.base import Database, Server
from migration_guard.db.remote import connect
from migration_guard.findings import Finding

CHECK = "apply"
MODELS = "the models"
MIGRATED = "the migrated database"
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


def capture_models(ws: Workspace, cfg: AlembicConfig, *,
                   compare: bool = True) -> tuple[Any, list[Any], list[Finding]]:
    """env.py's target_metadata and (with ``compare``) autogenerate's diffs against the
    configured database."""
    captured: dict[str, Any] = {"metadata": None, "diffs": []}

    def fn(script: ScriptDirectory, rev: Any, context: MigrationContext) -> list[Any]:
        metadata = context.opts.get("target_metadata")
        captured["metadata"] = metadata
        if compare and isinstance(metadata, sa.MetaData):
            captured["diffs"] = compare_metadata(context, metadata)
        return []

    failures = ws.run_env(cfg, fn, code="MG206", doing="comparing the models")
    return captured["metadata"], captured["diffs"], failures


def alembic_drift(ws: Workspace, cfg: AlembicConfig, server: Server, migrated: Database,
                  prelude: list[Unit], database: DatabaseConfig, deadline: Deadline, *,
                  cache: Path | None = None) -> list[Finding]:
    """The catalog of ``metadata.create_all()`` against the migrated one; where they
    differ, autogenerate's own diffs first (in alembic's words), then what only the
    catalog shows. When the catalogs agree, autogenerate is not run: it compares the same
    models with the same schema."""
    metadata, _, failures = capture_models(ws, cfg, compare=False)
    if failures:
        return failures
    metadatas = [metadata] if isinstance(metadata, sa.MetaData) else [
        m for m in (metadata or ()) if isinstance(m, sa.MetaData)]
    if not metadatas:
        return []
    expected, trouble = models_schema(server, metadatas, prelude, database, deadline, cache)
    if trouble:
        return trouble
    differences = catalog.compare(expected, schema_of(migrated.conninfo),
                                  expected_label=MODELS, actual_label=MIGRATED)
    if not differences:
        return []
    where = ws.project.env_py or ws.project.migrations
    hint = f"generate a migration for it: {ws.project.generate_command}"
    diffs: list[Any] = []
    if isinstance(metadata, sa.MetaData):
        _, diffs, failures = capture_models(ws, cfg)
        if failures:
            return failures
    findings = [drift_finding(where, describe_diff(d), hint) for d in _flatten(diffs)]
    seen = " ".join(f.message for f in findings)
    findings += [drift_finding(where, d.message, hint) for d in differences
                 if not _already_reported(d, seen)]
    return findings


def models_schema(server: Server, metadatas: Sequence[sa.MetaData], prelude: list[Unit],
                  database: DatabaseConfig, deadline: Deadline,
                  cache: Path | None) -> tuple[catalog.Schema, list[Finding]]:
    """The catalog ``create_all()`` makes after the prelude, kept in ``cache`` under a hash
    of the DDL it emits (rendered without a database), the prelude and the server version:
    unchanged models cost a rendering, not a database of their own."""
    key = _models_key(server, metadatas, prelude) if cache is not None else None
    stored = catalog.load(cache / f"models-{key}.json") if cache and key else None
    if stored is not None:
        return stored, []
    with throwaway(server) as models_db:
        trouble = apply_in(models_db.conninfo, prelude, None, database, deadline)
        if trouble:
            return {}, trouble
        _create_all(models_db, metadatas, database)
        expected = schema_of(models_db.conninfo)
    if cache is not None and key is not None:
        catalog.store(cache / f"models-{key}.json", expected, keep=MODELS_CACHE_ENTRIES)
    return expected, []


def _models_key(server: Server, metadatas: Sequence[sa.MetaData],
                prelude: list[Unit]) -> str | None:
    if server.build_key is None:
        return None  # a server of unknown settings and extensions: nothing to reuse
    statements: list[str] = []
    dialect = sa.engine.make_url("postgresql+psycopg://").get_dialect()()

    def record(sql: Any, *multiparams: Any, **params: Any) -> None:
        statements.append(str(sql.compile(dialect=dialect)))

    engine = sa.create_mock_engine(sa.engine.make_url("postgresql+psycopg://"), record)
    try:
        for metadata in metadatas:
            metadata.create_all(engine, checkfirst=False)
    except Exception:  # an event hook that needs a real database: no key, no cache
        return None
    return fingerprint("models", catalog.VERSION, server.build_key, prelude,
                       [Unit(str(i), s) for i, s in enumerate(statements)])[:32]


def _create_all(db: Database, metadatas: Sequence[sa.MetaData], database: DatabaseConfig) -> None:
    url = sqlalchemy_url(db.conninfo, statement_timeout_s=database.statement_timeout,
                         lock_timeout_s=database.lock_timeout)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        for metadata in metadatas:
            metadata.create_all(engine)
    finally:
        engine.dispose()


def _already_reported(difference: catalog.Difference, seen: str) -> bool:
    """Autogenerate already named this table, column or index."""
    parts = difference.name.split(".")
    if difference.kind in ("table", "index"):
        return f"'{parts[-1]}'" in seen
    if difference.kind == "column":
        return f"'{parts[-2]}.{parts[-1]}'" in seen
    return False


def _flatten(diffs: Iterable[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for diff in diffs:
        if isinstance(diff, list):
            out.extend(diff)
        else:
            out.append(diff)
    return out


def _table_name(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def describe_diff(diff: tuple[Any, ...]) -> str:
    """One of autogenerate's diff tuples, in words."""
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        table = diff[1]
        return _presence(kind, f"table '{_table_name(table.schema, table.name)}'")
    if kind in ("add_column", "remove_column"):
        table, column = diff[2], diff[3]
        return _presence(kind, f"column '{table}.{column.name}' ({column.type})")
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint",
                "add_fk", "remove_fk"):
        obj = diff[1]
        what = {"index": "index", "constraint": "constraint", "fk": "foreign key"}[
            kind.split("_", 1)[1]]
        table = getattr(getattr(obj, "table", None), "name", "?")
        return _presence(kind, f"{what} '{obj.name}' on '{table}'")
    if kind.startswith("modify_"):
        table, column = diff[2], diff[3]
        old, new = diff[5], diff[6]
        aspect = kind.removeprefix("modify_")
        return (f"column '{table}.{column}' {aspect} is {new!s} in {MODELS} but {old!s} in "
                f"{MIGRATED}")
    return f"{MODELS} and {MIGRATED} differ: {diff!r}"[:500]


def _presence(kind: str, what: str) -> str:
    if kind.startswith("add"):
        return f"{what} is in {MODELS} but not in {MIGRATED}"
    return f"{what} is in {MIGRATED} but not in {MODELS}"


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
