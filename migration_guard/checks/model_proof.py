"""Judge an Alembic model change on a database: does it change the schema at all?

``required`` asks for a migration when a model file's code changes. Many such changes
declare no schema: a relationship, an ``onupdate=`` callable, a renamed Python class. Here
the project's migrations (none of which the change adds) are applied to a throwaway
database and compared with the changed models twice: by Alembic's autogenerate
(``compare_metadata``, with the options env.py passes to ``context.configure()``), and by
the drift check's catalog compare of ``metadata.create_all()`` with the migrated schema,
which also sees what autogenerate does not (an added CHECK constraint, a changed partial
index predicate). The models as they were before the change are compared with the same
schema, and what already differed then is not the change's doing: only differences the
change brings count. Only a change that brings none passes. Runs only where the file
rule would fail, and imports the database stack only then.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from migration_guard.apply import alembic_plan, bytecode
from migration_guard.apply.alembic_child import AlembicChild
from migration_guard.apply.alembic_models import MIGRATED, MODELS
from migration_guard.apply.alembic_project import AlembicRun
from migration_guard.apply.drift import models_schema, schema_of
from migration_guard.apply.driver import project_driver
from migration_guard.apply.runner import throwaway
from migration_guard.apply.settings import Deadline, settings_for
from migration_guard.config import Config
from migration_guard.db import catalog
from migration_guard.db.base import Database, Server
from migration_guard.db.provider import open_server
from migration_guard.db.tempdirs import default_cache_dir
from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Note
from migration_guard.git.changeset import ChangeSet, Snapshot
from migration_guard.projects import Project

CHECK = "required"
PROVEN = "proven on a database"


def prove_model_change(project: Project, changeset: ChangeSet, config: Config,
                       changed: Sequence[str]) -> tuple[list[Finding], list[Note]]:
    """MG101 for each schema difference between the changed models and the migrations;
    a note naming the changed files when there is none."""
    differences = schema_differences(project, changeset, config)
    texts = changeset.candidate.read_many(changed)
    hint = f"generate one and stage it: {project.generate_command}"
    findings = [
        Finding("MG101", _blamed(table, changed, texts), None,
                f"schema source changed but no migration was added to {project.migrations}/ "
                f"({PROVEN}): {description}", hint, check=CHECK, project=project.name)
        for table, description in differences
    ]
    if findings:
        return findings, []
    return [], [Note(path, f"the change has no schema effect: no migration needed ({PROVEN}: "
                     "autogenerate and the catalog compare find the models equal to the "
                     "migrated schema)", check=CHECK, project=project.name)
                for path in sorted(changed)]


class _Proof:
    """One throwaway server and database with the project's migrations applied, against
    which versions of the models are compared."""

    def __init__(self, project: Project, changeset: ChangeSet, config: Config) -> None:
        self.project = project
        self.changeset = changeset
        self.settings = settings_for(config, project)
        self.deadline = Deadline(self.settings.database.run_timeout)
        self.cache_root = default_cache_dir()
        self.work = alembic_plan.plan(project, changeset, self.settings)

    def workspace(self, snapshot: Snapshot) -> AlembicChild:
        """alembic in a child process on ``snapshot``'s files (the run limit can end it)."""
        return AlembicChild(self.project, snapshot,
                            env_var=self.settings.options.database_url_env,
                            deadline=self.deadline,
                            driver=project_driver(self.project, snapshot),
                            bytecode_cache=bytecode.cache_dir_for(self.cache_root))

    def differences(self) -> list[tuple[str, str]]:
        """What differs between the changed models and the migrated schema, less what
        already differed between the models before the change and the same schema."""
        database = self.settings.database
        with open_server(database_url=database.url, cache_dir=self.cache_root,
                         connect_timeout_s=database.connect_timeout,
                         start_timeout_s=database.start_timeout, background=True) as server, \
                contextlib.ExitStack() as candidate:
            ws = candidate.enter_context(self.workspace(self.changeset.candidate))
            runner = AlembicRun(ws, server, self.work, self.settings, self.deadline,
                                cache_root=self.cache_root)
            with throwaway(server) as migrated:
                # No migration is part of the change: the candidate's heads are the heads
                # before it.
                _require_none(runner.sql(migrated, self.work.prelude)
                              or ws.upgrade(runner.config(migrated), "heads",
                                            doing="upgrade to the migrations' heads"))
                now = self.compare(ws, runner, server, migrated, required=True)
                # Forget the changed models' modules before the old ones are imported.
                candidate.close()
                before = self.compare_before(server, migrated) if now else []
        already = {text for _, text in before}
        return [(table, text) for table, text in now if text not in already]

    def compare_before(self, server: Server, migrated: Database) -> list[tuple[str, str]]:
        """The same comparison for the models as they were before the change (nothing,
        when they cannot be read: every difference then counts)."""
        if self.changeset.since is None:
            return []
        old = Snapshot(self.changeset.git, self.changeset.since, "before the change")
        with self.workspace(old) as ws:
            runner = AlembicRun(ws, server, self.work, self.settings, self.deadline,
                                cache_root=self.cache_root)
            try:
                return self.compare(ws, runner, server, migrated, required=False)
            except GuardError:
                return []

    def compare(self, ws: AlembicChild, runner: AlembicRun, server: Server, migrated: Database,
                *, required: bool) -> list[tuple[str, str]]:
        """(table, difference in words) between env.py's target_metadata and the migrated
        schema: autogenerate's first, then what only the catalog compare shows (both
        narrowed to what env.py's ``context.configure()`` options compare)."""
        target = runner.config(migrated)
        info, failures = ws.models(target)
        if failures:
            if required:
                _require_none(failures)
            return []
        if not info.has_metadata:
            raise GuardError(
                f"cannot prove the model change: {self.project.env_py} gives no "
                "target_metadata, so there is nothing to compare the migrations with",
                "set target_metadata in env.py, or drop --prove")
        expected, trouble = models_schema(ws, server, info.ddl, self.work.prelude,
                                          self.settings.database, self.deadline,
                                          self.cache_root)
        _require_none(trouble)
        expected, actual, trouble = ws.narrow(expected, schema_of(migrated.conninfo))
        _require_none(trouble)
        found = catalog.compare(expected, actual, expected_label=MODELS,
                                actual_label=MIGRATED)
        diffs, failures = ws.autogenerate(target)
        _require_none(failures)
        described = [(_table_in(text), text) for text in diffs]
        seen = " ".join(text for _, text in described)
        described += [(d.name.split(".")[-2] if d.kind != "table" and "." in d.name
                       else d.name.split(".")[-1], d.message)
                      for d in found if not d.named_in(seen)]
        return described


def schema_differences(project: Project, changeset: ChangeSet,
                       config: Config) -> list[tuple[str, str]]:
    """(table, difference in words) the change brings between the models and the schema
    the migrations make."""
    return _Proof(project, changeset, config).differences()


def _require_none(trouble: list[Finding]) -> None:
    """Fail closed: a proof that could not run is no proof."""
    if trouble:
        first = trouble[0]
        where = f"{first.path}:{first.line}" if first.line else first.path
        raise GuardError(f"cannot prove the model change on a database: {where}: "
                         f"{first.code} {first.message}",
                         "run `migration-guard apply` to see why the migrations do not "
                         "apply, or drop --prove")


def _table_in(described: str) -> str:
    """The table an autogenerate difference in words names: ``index 'ix' on 'users'``,
    ``column 'users.email'``, ``table 'users'``."""
    import re

    match = re.search(r" on '([^']+)'", described) or re.search(r"'([^'.]+)(?:\.[^']*)?'",
                                                                  described)
    return match.group(1) if match else ""


def _blamed(table: str, changed: Sequence[str], texts: dict[str, bytes]) -> str:
    """The changed file that names the table (the first changed file if none does)."""
    for quote in ('"', "'"):
        needle = f"{quote}{table}{quote}".encode()
        for path in changed:
            if needle in texts.get(path, b""):
                return path
    return sorted(changed)[0]
