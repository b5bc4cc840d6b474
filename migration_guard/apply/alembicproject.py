"""The apply check for Alembic projects: from empty, upgrade path, round trips, drift.

Revision ids and parents are read statically (no import) to know the base's heads and
which revisions are new; alembic itself then runs in process on the materialised files.
The state "base heads applied" is a template cached under a hash of the base revisions,
``alembic.ini``, ``env.py`` and the prelude.
"""

from __future__ import annotations

import ast
import contextlib
import re
from typing import NamedTuple

from alembic.config import Config as AlembicConfig

from migration_guard.apply import catalog
from migration_guard.apply.alembic_run import Workspace, sqlalchemy_url
from migration_guard.apply.drift import alembic_drift, schema_of
from migration_guard.apply.roundtrip import roundtrip_all, roundtrip_new
from migration_guard.apply.runner import apply_in, build_template, throwaway
from migration_guard.apply.settings import Deadline, Settings
from migration_guard.apply.sources import Unit, decode, fingerprint, read_listed
from migration_guard.apply.upgrade_path import run_upgrade_path
from migration_guard.changeset import ChangeSet
from migration_guard.db.base import Database, Server
from migration_guard.findings import Finding, Note
from migration_guard.frameworks.alembic import Revision, build_graph, parse_revision
from migration_guard.projects import Project


class AlembicPlan(NamedTuple):
    prelude: list[Unit]
    seed: list[Unit]
    base_heads: list[str]
    new: list[Revision]  # parents first
    cache_key: str
    new_sources: list[bytes]  # the new revision files, for the tables they mention


def _revisions(project: Project, blobs: dict[str, bytes]) -> list[Revision]:
    fw = project.fw
    found = []
    for path, data in blobs.items():
        rel = project.rel(path)
        if rel is None or not fw.is_migration(rel):
            continue
        parsed = parse_revision(path, data, compile_check=False)
        if isinstance(parsed, Revision):
            found.append(parsed)
    return found


def _depths(revisions: dict[str, Revision]) -> dict[str, int]:
    """Longest distance from a root, so sorting by it puts parents first (linear time)."""
    depth: dict[str, int] = {}
    for start in revisions:
        stack = [start]
        while stack:
            rid = stack[-1]
            parents = [p for p in revisions[rid].down if p in revisions and p not in depth]
            if parents and len(stack) <= len(revisions):
                stack.extend(parents)
                continue
            stack.pop()
            depth[rid] = 1 + max((depth.get(p, 0) for p in revisions[rid].down), default=-1)
    return depth


def plan(project: Project, changeset: ChangeSet, settings: Settings) -> AlembicPlan:
    candidate = changeset.candidate
    base_entries = changeset.base_files([project.migrations])
    base = _revisions(project, changeset.read_base(base_entries))
    mine = [p for p in candidate.files if project.rel(p) is not None]
    current = _revisions(project, candidate.read_many(mine))
    graph = build_graph(current)
    base_ids = {r.id for r in base}
    depth = _depths(graph.revisions)
    new = sorted((r for r in graph.revisions.values() if r.id not in base_ids),
                 key=lambda r: (depth[r.id], r.path))
    prelude = read_listed(settings.prelude, candidate.read_many, key="prelude")
    shaping = [p for p in (project.alembic_ini, project.env_py) if p is not None]
    shaping_units = [Unit(p, decode(d)) for p, d in sorted(candidate.read_many(shaping).items())]
    base_units = sorted((Unit(r.path, decode(candidate.read(r.path) or b"")) for r in base),
                        key=lambda u: u.path)
    return AlembicPlan(
        prelude=prelude, seed=read_listed(settings.seed, candidate.read_many, key="seed"),
        base_heads=build_graph(base).heads, new=new,
        cache_key=fingerprint("alembic", prelude, shaping_units, base_units),
        new_sources=[candidate.read(r.path) or b"" for r in new],
    )


def names_in_strings(sources: list[bytes]) -> set[str] | None:
    """Identifiers inside the string literals of Python sources (table names passed to
    ``op.*`` or written in ``op.execute`` SQL); None when a source does not parse, so
    that every table is filled with sample rows."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", node.value))
    return names


class AlembicRun:
    """One apply run of one Alembic project on one server."""

    def __init__(self, ws: Workspace, server: Server, work: AlembicPlan, settings: Settings,
                 deadline: Deadline) -> None:
        self.ws = ws
        self.server = server
        self.work = work
        self.settings = settings
        self.deadline = deadline
        self.notes: list[Note] = []

    def config(self, db: Database) -> AlembicConfig:
        database = self.settings.database
        return self.ws.config(sqlalchemy_url(
            db.conninfo, statement_timeout_s=self.deadline.statement_timeout(
                database.statement_timeout),
            lock_timeout_s=database.lock_timeout))

    def sql(self, db: Database, units: list[Unit]) -> list[Finding]:
        return apply_in(db.conninfo, units, "sql", self.settings.database, self.deadline)

    def build_base(self, db: Database) -> list[Finding]:
        found = self.sql(db, self.work.prelude)
        cfg = self.config(db)
        for head in self.work.base_heads:
            found = found or self.ws.upgrade(cfg, head, doing=f"upgrade to the base's head {head}")
        return found

    def run(self) -> list[Finding]:
        template: str | None = None
        if self.work.base_heads:
            template, found = build_template(self.server, self.build_base)
            if found:
                return found
        with contextlib.ExitStack() as stack:
            migrated = stack.enter_context(throwaway(self.server, template))
            found = self.from_empty(migrated, template)
            if found:
                return found
            if template is not None and self.work.new:
                touched = names_in_strings(self.work.new_sources)
                found = run_upgrade_path(self.server, template, self.settings.database, None,
                                         self.upgrade_heads, only_tables=touched)
            if self.settings.drift and not found:
                found = alembic_drift(self.ws, self.config(migrated), self.server, migrated,
                                      self.work.prelude, self.settings.database, self.deadline)
            return found

    def upgrade_heads(self, db: Database) -> list[Finding]:
        return self.ws.upgrade(self.config(db), "heads")

    def from_empty(self, db: Database, template: str | None) -> list[Finding]:
        found = [] if template else self.sql(db, self.work.prelude)
        cfg = self.config(db)
        if not found and self.settings.roundtrip == "new":
            found, self.notes = roundtrip_new(self.ws, cfg, db.conninfo, self.work.new)
        empty = schema_of(db.conninfo) if self.settings.roundtrip == "all" and not template \
            else None
        found = found or self.ws.upgrade(cfg, "heads")
        if not found and self.settings.roundtrip == "all":
            found = roundtrip_all(self.ws, cfg, db.conninfo, empty or self._empty_schema(),
                                  self.ws.project.migrations)
        return found or self.sql(db, self.work.seed)

    def _empty_schema(self) -> catalog.Snapshot:
        with throwaway(self.server) as db:
            self.sql(db, self.work.prelude)
            return schema_of(db.conninfo)


def run_alembic_project(project: Project, changeset: ChangeSet, server: Server,
                        work: AlembicPlan, settings: Settings,
                        deadline: Deadline) -> tuple[list[Finding], list[Note]]:
    with Workspace(project, changeset.candidate, env_var=settings.database_url_env) as ws:
        runner = AlembicRun(ws, server, work, settings, deadline)
        return runner.run(), runner.notes
