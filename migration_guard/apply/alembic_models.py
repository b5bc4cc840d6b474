"""The models side of Alembic drift, run where env.py runs (the child process).

env.py's ``target_metadata`` and the options it passes to ``context.configure()`` are
captured once; from them come the DDL ``create_all()`` would emit (rendered without a
database, for the models' cache key), the models' schema on a database, autogenerate's
differences in words, and the catalog snapshots narrowed to what autogenerate compares
under those options: ``compare_type``, ``compare_server_default``, ``include_schemas``,
``include_name``, ``include_object``, ``version_table`` and ``version_table_schema``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from migration_guard.apply.alembic_run import Workspace
from migration_guard.db import catalog
from migration_guard.findings import Finding
from migration_guard.typing_lite import NamedTuple

MODELS = "the models"
MIGRATED = "the migrated database"
DEFAULT_SCHEMA = "public"
# What a column's catalog description holds after its type: "null"/"not null", then the
# default (up to the collation or comment that may follow it).
_TYPE = re.compile(r"^(?P<type>.*?) (?P<rest>(?:not )?null\b.*)$", re.DOTALL)
_DEFAULT = re.compile(r" default .*?(?=( collate [^ ]+)?(, comment '.*)?$)", re.DOTALL)
_CONSTRAINT_KINDS = {"UNIQUE": "unique_constraint", "FOREIGN KEY": "foreign_key_constraint",
                     "CHECK": "check_constraint", "PRIMARY KEY": "primary_key_constraint"}


class ModelsInfo(NamedTuple):
    has_metadata: bool
    ddl: list[str] | None  # None: create_all() cannot be rendered without a database


class Models:
    """env.py's target_metadata and configure() options, captured in this process."""

    def __init__(self) -> None:
        self.metadatas: list[sa.MetaData] = []
        self.opts: dict[str, Any] = {}

    def capture(self, ws: Workspace, cfg: AlembicConfig) -> tuple[ModelsInfo, list[Finding]]:
        captured: dict[str, Any] = {}

        def fn(script: ScriptDirectory, rev: Any, context: MigrationContext) -> list[Any]:
            captured.update(context.opts)
            return []

        failures = ws.run_env(cfg, fn, code="MG206", doing="comparing the models")
        metadata = captured.get("target_metadata")
        self.metadatas = [metadata] if isinstance(metadata, sa.MetaData) else [
            m for m in (metadata or ()) if isinstance(m, sa.MetaData)]
        self.opts = captured
        return ModelsInfo(bool(self.metadatas), render_ddl(self.metadatas)), failures

    def create_all(self, url: str) -> None:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            for metadata in self.metadatas:
                metadata.create_all(engine)
        finally:
            engine.dispose()

    def autogenerate(self, ws: Workspace, cfg: AlembicConfig) -> tuple[list[str], list[Finding]]:
        """autogenerate's differences, in words (a single MetaData only, as alembic)."""
        described: list[str] = []

        def fn(script: ScriptDirectory, rev: Any, context: MigrationContext) -> list[Any]:
            metadata = context.opts.get("target_metadata")
            if isinstance(metadata, sa.MetaData):
                described.extend(describe_diff(d) for d in _flatten(
                    compare_metadata(context, metadata)))
            return []

        failures = ws.run_env(cfg, fn, code="MG206", doing="comparing the models")
        return described, failures

    def narrow(self, expected: catalog.Schema,
               actual: catalog.Schema) -> tuple[catalog.Schema, catalog.Schema]:
        """Both snapshots with only what autogenerate would compare under env.py's options."""
        judge = _Judge(self.opts, self.metadatas)
        return judge.narrow(expected, reflected=False), judge.narrow(actual, reflected=True)


def render_ddl(metadatas: Iterable[sa.MetaData]) -> list[str] | None:
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
    return statements


class _Judge:
    """What of a catalog snapshot autogenerate would look at, under configure() options."""

    def __init__(self, opts: dict[str, Any], metadatas: list[sa.MetaData]) -> None:
        self.compare_type = bool(opts.get("compare_type", True))
        self.compare_default = bool(opts.get("compare_server_default", False))
        self.include_schemas = bool(opts.get("include_schemas", False))
        self.version = (opts.get("version_table_schema") or DEFAULT_SCHEMA,
                        opts.get("version_table") or "alembic_version")
        self.include_name: Callable[..., Any] | None = opts.get("include_name")
        self.include_object: Callable[..., Any] | None = opts.get("include_object")
        self.tables = {(t.schema or DEFAULT_SCHEMA, t.name): t
                       for m in metadatas for t in m.tables.values()}
        self._verdicts: dict[tuple[str, str, bool], bool] = {}

    def narrow(self, snapshot: catalog.Schema, *, reflected: bool) -> catalog.Schema:
        return {key: self._normalise(obj) for key, obj in snapshot.items()
                if self._wanted(obj, reflected)}

    def _wanted(self, obj: catalog.SchemaObject, reflected: bool) -> bool:
        if obj.kind == "schema":
            return obj.name != self.version[0] and (not self.include_schemas or _call(
                self.include_name, obj.name, "schema", {}))
        schema = obj.name.split(".", 1)[0]
        if reflected and not self.include_schemas and schema != DEFAULT_SCHEMA:
            return False  # autogenerate reflects the default schema only
        table = obj.parent or (obj.name if obj.kind == "table" else "")
        if table:
            if not self._table_wanted(table, reflected):
                return False
            return self._member_wanted(obj, table, reflected)
        return True

    def _table_wanted(self, qualified: str, reflected: bool) -> bool:
        key = (qualified, "", reflected)
        if key not in self._verdicts:
            schema, _, name = qualified.partition(".")
            table = self.tables.get((schema, name))
            if table is None:
                table = sa.Table(name, sa.MetaData(), schema=_schema_arg(schema))
            self._verdicts[key] = (schema, name) != self.version and _call(
                self.include_name, name, "table", {"schema_name": _schema_arg(schema)}) \
                and _call(self.include_object, table, name, "table", reflected, None)
        return self._verdicts[key]

    def _member_wanted(self, obj: catalog.SchemaObject, qualified: str, reflected: bool) -> bool:
        if obj.kind not in ("column", "index", "constraint"):
            return True
        schema, _, table_name = qualified.partition(".")
        name = obj.name.rsplit(".", 1)[-1]
        parents = {"table_name": table_name, "schema_name": _schema_arg(schema)}
        if obj.kind == "column":
            table = self.tables.get((schema, table_name))
            column = table.c[name] if table is not None and name in table.c else None
            return _call(self.include_name, name, "column", parents) and (
                column is None or _call(self.include_object, column, name, "column",
                                        reflected, None))
        kind = "index" if obj.kind == "index" else next(
            (k for prefix, k in _CONSTRAINT_KINDS.items()
             if obj.description.startswith(prefix)), "")
        if kind not in ("index", "unique_constraint"):
            return True  # include_name is asked about indexes and unique constraints only
        return _call(self.include_name, name, kind, parents)

    def _normalise(self, obj: catalog.SchemaObject) -> catalog.SchemaObject:
        if obj.kind != "column" or (self.compare_type and self.compare_default):
            return obj
        description = obj.description
        if not self.compare_default:
            description = _DEFAULT.sub("", description, count=1)
        if not self.compare_type and (match := _TYPE.match(description)):
            description = match["rest"]
        return obj._replace(description=description)


def _schema_arg(schema: str) -> str | None:
    return None if schema == DEFAULT_SCHEMA else schema


def _call(hook: Callable[..., Any] | None, *args: Any) -> bool:
    """A project's include hook; one that raises on our stand-in objects includes them."""
    if hook is None:
        return True
    try:
        return bool(hook(*args))
    except Exception:  # user code given a reflected stand-in it did not expect
        return True


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
        return (f"column '{table}.{column}' {aspect} is {_value(new)} in {MODELS} but "
                f"{_value(old)} in {MIGRATED}")
    return f"{MODELS} and {MIGRATED} differ: {diff!r}"[:500]


def _value(value: Any) -> str:
    """A compared value as written: a server default's SQL text, not its object."""
    if isinstance(value, sa.DefaultClause):
        value = value.arg
    if isinstance(value, sa.TextClause):
        return value.text
    if isinstance(value, sa.ClauseElement):
        return str(value.compile(dialect=sa.engine.make_url("postgresql+psycopg://")
                                 .get_dialect()()))
    return str(value)


def _presence(kind: str, what: str) -> str:
    if kind.startswith("add"):
        return f"{what} is in {MODELS} but not in {MIGRATED}"
    return f"{what} is in {MIGRATED} but not in {MODELS}"
