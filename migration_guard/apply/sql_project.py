"""The apply check for SQL-directory frameworks: from empty, upgrade path, declarative drift.

The base's migrations (with the prelude) are applied once into a template, cached across
runs under a hash of their content; "from empty" is then that template plus the new
migrations, which equals a full apply because the template was built the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from migration_guard.apply.runner import apply_in, build_template, tables_named, throwaway
from migration_guard.apply.server_needs import (
    Preset,
    preset_for,
    read_seed,
    wants_for,
    with_stand_ins,
)
from migration_guard.apply.settings import Deadline, Settings
from migration_guard.apply.sources import Unit, matching, migration_paths, read_listed, read_units
from migration_guard.apply.upgrade_path import ApplyTo, run_upgrade_path
from migration_guard.db.base import Database, Server, Wants
from migration_guard.findings import Finding, Note
from migration_guard.frameworks import runs_in_one_transaction
from migration_guard.git.changeset import ChangeSet
from migration_guard.projects import Project
from migration_guard.typing_lite import NamedTuple

if TYPE_CHECKING:
    from migration_guard.apply.trace import Tracer


class SqlPlan(NamedTuple):
    prelude: list[Unit]  # the preset's unit first, when the project has one
    seed: list[Unit]
    prefix: list[Unit]  # candidate migrations before the first new one (the cached part)
    rest: list[Unit]  # the first new migration and everything after it
    new: list[Unit]  # migrations the base lacks: what production will run next
    base: list[Unit]  # the base tree's migrations, as production has them
    declared: list[Unit]
    preset: Preset | None = None
    wants: Wants = Wants()


def plan(project: Project, changeset: ChangeSet, settings: Settings) -> SqlPlan:
    candidate = changeset.candidate
    order = migration_paths(project, candidate.files, candidate.read_many)
    base_entries = changeset.base_files([project.migrations])

    def read_base(paths: object) -> dict[str, bytes]:
        assert isinstance(paths, list | tuple | set)
        return changeset.read_base({p: base_entries[p] for p in paths if p in base_entries})

    base_order = migration_paths(project, base_entries, read_base)
    new = [p for p in order
           if p not in base_entries or base_entries[p].oid != candidate.files[p].oid]
    first = order.index(new[0]) if new else len(order)
    units = read_units(order, candidate.read_many)
    declared_globs = settings.options.declarative_schema or (
        tuple(g for g in project.schema or () if g.endswith(".sql"))
        if project.fw.declarative_schema else ())
    preset = preset_for(project, settings)
    prelude = read_listed(settings.options.prelude, candidate.read_many, key="prelude")
    seed = read_listed(settings.options.seed, candidate.read_many, key="seed")
    if preset is not None and not settings.options.seed:
        seed = read_seed(project, candidate.files, candidate.read_many)
    wants = wants_for(settings, [*prelude, *units, *seed], preset)
    if preset is not None:
        prelude = [preset.unit, *prelude]
        units = [with_stand_ins(u, preset.stand_ins) for u in units]
    return SqlPlan(
        prelude=prelude, seed=seed,
        prefix=units[:first], rest=units[first:],
        # An edited merged migration is not run again in production (immutable reports
        # the edit): the upgrade path runs only the files the base does not have.
        new=[u for u in units if u.path not in base_entries],
        base=[with_stand_ins(u, preset.stand_ins) if preset else u
              for u in read_units(base_order, read_base)],
        declared=_declared(project, changeset, settings, declared_globs),
        preset=preset, wants=wants,
    )


def _declared(project: Project, changeset: ChangeSet, settings: Settings,
              globs: tuple[str, ...]) -> list[Unit]:
    """The desired schema for drift: the declarative SQL files, else (with drift on) what
    the framework's own schema source declares."""
    candidate = changeset.candidate
    if globs or not settings.options.drift:
        return read_units(matching(candidate.files, globs), candidate.read_many)
    declared = project.fw.declared_schema(project, changeset)
    return [Unit(*declared)] if declared is not None else []


def run_sql_project(project: Project, server: Server, work: SqlPlan, settings: Settings,
                    deadline: Deadline, *, tracer: Tracer | None = None,
                    ) -> tuple[list[Finding], list[Note]]:
    """``tracer``: observes the new migrations on the upgrade path (or, for ``trace: all``,
    every migration as the upgrade path applies it)."""
    database = settings.database
    one_transaction = runs_in_one_transaction(project.fw, settings.options.runner)
    if work.preset is not None:
        server.run_admin_sql(work.preset.roles_sql)

    def apply(units: list[Unit]) -> Callable[[Database], list[Finding]]:
        return lambda db: as_seed(apply_in(with_search_path(db.conninfo, work.preset), units,
                                           project.fw, database, deadline,
                                           one_transaction=one_transaction), work.seed)

    def traced(units: list[Unit]) -> ApplyTo:
        return lambda db, observer: apply_in(with_search_path(db.conninfo, work.preset), units,
                                             project.fw, database, deadline, observer,
                                             one_transaction=one_transaction)

    template: str | None = None
    if work.prefix:
        template, findings = build_template(server, apply([*work.prelude, *work.prefix]))
        if findings:
            return findings, []
    with contextlib.ExitStack() as stack:
        migrated = stack.enter_context(throwaway(server, template))
        setup = work.rest if template else [*work.prelude, *work.rest]
        findings = apply([*setup, *work.seed])(migrated)
        if findings:
            return findings, []
        if work.base and work.new:
            trace_all = tracer is not None and tracer.settings.mode == "all"
            same_base = _same(work.base, work.prefix) and not trace_all
            if tracer is not None:
                for unit in [*work.base, *work.new]:
                    tracer.add_source(unit.path, unit.text)
            findings = run_upgrade_path(
                server, template if same_base else None, database,
                None if same_base else traced([*work.prelude, *work.base]), traced(work.new),
                only_tables=tables_named(work.new), last_use=True, tracer=tracer)
        if settings.options.drift and not findings:
            from migration_guard.apply.drift import declarative_drift  # SQLAlchemy, alembic

            findings = declarative_drift(server, migrated, work.prelude, work.declared,
                                         database, deadline)
    return findings, []


def with_search_path(conninfo: str, preset: Preset | None) -> str:
    """Every session of a preset run has the platform's search path (a per-database
    setting would not survive cloning the template)."""
    if preset is None:
        return conninfo
    import psycopg

    return psycopg.conninfo.make_conninfo(conninfo, options="-c search_path=public,extensions")


def as_seed(findings: list[Finding], seed: list[Unit]) -> list[Finding]:
    """A seed file's failure is reported as the seed's, not as a migration's."""
    paths = {u.path for u in seed}
    return [f._replace(message=f.message.replace("migration failed to apply",
                                                 "seed failed to apply", 1))
            if f.path in paths else f for f in findings]


def preset_notes(work: SqlPlan) -> list[str]:
    """What the preset did, for the output: its name, stand-ins and seed files."""
    if work.preset is None:
        return []
    notes = [f"{work.preset.name} preset: roles, auth, storage and extensions schemas set up"]
    if work.preset.stand_ins:
        notes.append("stand-ins used for the platform extensions "
                     f"{', '.join(work.preset.stand_ins)}: their functions do nothing")
    notes += [f"seed {u.path} applied after the migrations" for u in work.seed]
    return notes


def _same(left: list[Unit], right: list[Unit]) -> bool:
    return [(u.path, u.text) for u in left] == [(u.path, u.text) for u in right]
