"""The apply check for Alembic projects: from empty, upgrade path, round trips, drift.

The plan (:mod:`migration_guard.apply.alembic_plan`) says which revisions are new and what
the base's heads are; alembic itself then runs on the exported files in one child process
(:mod:`migration_guard.apply.alembic_child`, which the run's limit can end), with one
ScriptDirectory for the whole run. The state "base heads applied" is a template cached
under a hash of the base revisions, ``alembic.ini``, ``env.py`` and the prelude; the
server restores it while the plan is made and the revision files are imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from migration_guard.apply import bytecode
from migration_guard.apply.alembic_child import AlembicChild
from migration_guard.apply.alembic_plan import AlembicPlan, names_in_strings
from migration_guard.apply.alembic_run import Handover
from migration_guard.apply.drift import alembic_drift, schema_of
from migration_guard.apply.driver import project_driver
from migration_guard.apply.roundtrip import roundtrip_all, roundtrip_new
from migration_guard.apply.runner import apply_in, build_template, throwaway
from migration_guard.apply.settings import Deadline, Settings
from migration_guard.apply.sources import Unit
from migration_guard.apply.upgrade_path import run_upgrade_path
from migration_guard.db import catalog
from migration_guard.db.base import Database, Server
from migration_guard.db.execute import StatementObserver
from migration_guard.findings import Finding, Note
from migration_guard.git.changeset import ChangeSet
from migration_guard.projects import Project

if TYPE_CHECKING:
    from migration_guard.apply.trace import Tracer


class AlembicRun:
    """One apply run of one Alembic project on one server."""

    def __init__(self, ws: AlembicChild, server: Server, work: AlembicPlan, settings: Settings,
                 deadline: Deadline, *, cache_root: Path | None = None,
                 tracer: Tracer | None = None, traced: frozenset[str] = frozenset()) -> None:
        self.ws = ws
        self.cache_root = cache_root
        self.server = server
        self.work = work
        self.settings = settings
        self.deadline = deadline
        self.notes: list[Note] = []
        self.tracer = tracer
        self.traced = traced  # the revision files the trace observes

    def config(self, db: Database) -> Handover:
        database = self.settings.database
        return self.ws.config(
            db.conninfo, statement_timeout_s=self.deadline.statement_timeout(
                database.statement_timeout),
            lock_timeout_s=database.lock_timeout)

    def sql(self, db: Database, units: list[Unit]) -> list[Finding]:
        return apply_in(db.conninfo, units, None, self.settings.database, self.deadline)

    def build_base(self, db: Database, observer: StatementObserver | None = None
                   ) -> list[Finding]:
        found = self.sql(db, self.work.prelude)
        cfg = self.config(db)
        for head in self.work.base_heads:
            found = found or self.ws.upgrade(cfg, head, doing=f"upgrade to the base's head {head}",
                                             **self.observing(observer))
        return found

    def observing(self, observer: StatementObserver | None) -> dict[str, Any]:
        """What makes the child show the trace each statement of a revision file: the
        pass's observer and the revision files it wants."""
        if observer is None or self.tracer is None:
            return {}
        from migration_guard.apply.trace import PassObserver

        assert isinstance(observer, PassObserver)
        return {"trace": observer, "traced": self.traced}

    def run(self) -> list[Finding]:
        template: str | None = None
        if self.work.base_heads:
            template, found = build_template(self.server, self.build_base)
            if found:
                return found
        with throwaway(self.server, template) as migrated:
            found = self.from_empty(migrated, template)
            if found:
                return found
            # Drift first, while env.py's modules are still imported for this database;
            # an upgrade path failure, if any, is what gets reported.
            drift = alembic_drift(self.ws, self.config(migrated), self.server, migrated,
                                  self.work.prelude, self.settings.database, self.deadline,
                                  cache=self.cache_root) if self.settings.options.drift else []
        trace_all = self.tracer is not None and self.tracer.settings.mode == "all"
        if template is not None and self.work.new:
            touched = names_in_strings(self.work.new_sources)
            found = run_upgrade_path(
                self.server, None if trace_all else template, self.settings.database,
                self.build_base if trace_all else None, self.upgrade_heads,
                only_tables=touched, last_use=True, tracer=self.tracer)
        return found or drift

    def upgrade_heads(self, db: Database, observer: StatementObserver | None = None
                      ) -> list[Finding]:
        return self.ws.upgrade(self.config(db), "heads", **self.observing(observer))

    def from_empty(self, db: Database, template: str | None) -> list[Finding]:
        found = [] if template else self.sql(db, self.work.prelude)
        cfg = self.config(db)
        roundtrip = self.settings.options.roundtrip
        if not found and roundtrip == "new":
            found, self.notes = roundtrip_new(self.ws, cfg, db.conninfo, self.work.new)
        empty = schema_of(db.conninfo) if roundtrip == "all" and not template else None
        found = found or self.ws.upgrade(cfg, "heads")
        if not found and roundtrip in ("all", "downgrades"):
            found, notes = roundtrip_all(
                self.ws, cfg, db.conninfo,
                (empty or self._empty_schema()) if roundtrip == "all" else None,
                self.ws.project.migrations)
            self.notes += notes
        return found or self.sql(db, self.work.seed)

    def _empty_schema(self) -> catalog.Schema:
        with throwaway(self.server) as db:
            self.sql(db, self.work.prelude)
            return schema_of(db.conninfo)


def run_alembic_project(project: Project, changeset: ChangeSet, server: Server,
                        work: AlembicPlan, settings: Settings, deadline: Deadline, *,
                        cache_root: Path | None = None, tracer: Tracer | None = None,
                        ) -> tuple[list[Finding], list[Note]]:
    """``cache_root``: where compiled revision files and models' schemas are kept;
    ``tracer``: observes the new revisions' statements on the upgrade path."""
    bytecode_cache = bytecode.cache_dir_for(cache_root) if cache_root else None
    driver = project_driver(project, changeset.candidate)
    # The child imports the revision files while the server may still be booting.
    with AlembicChild(project, changeset.candidate, env_var=settings.options.database_url_env,
                      deadline=deadline, driver=driver, bytecode_cache=bytecode_cache) as ws:
        traced = frozenset(p for p in changeset.candidate.files
                           if tracer is not None and tracer.wanted(p))
        runner = AlembicRun(ws, server, work, settings, deadline, cache_root=cache_root,
                            tracer=tracer, traced=traced)
        return runner.run(), runner.notes
