"""migrations-lint: the SQL that new or modified migrations run, linted with pglast.

Only what the change adds or edits is linted, in the framework's order, and tables a
migration of the same change created are known to later ones (no locking findings for an
index on a table created in the same change). Alembic revisions are linted as the SQL
they render offline, exported from the snapshot (never read from the working tree).
"""

from __future__ import annotations

import os

from migration_guard.cache import cache_dir
from migration_guard.config import Config
from migration_guard.findings import Finding, Outcome
from migration_guard.frameworks import runs_in_one_transaction
from migration_guard.git.changeset import ChangeSet
from migration_guard.lint import LintOptions
from migration_guard.lint.batch import lint_in_order
from migration_guard.lint.registry import options_from
from migration_guard.lint.result_cache import ResultCache
from migration_guard.projects import Project

CHECK = "lint"


def lint_options(project: Project, config: Config) -> LintOptions:
    """The config's lint section, overridden by the project's own; the server major is
    ``postgres.version`` (a project's own ``lint.pg_version`` still overrides it)."""
    return options_from(config, project.config.lint if project.config is not None else ())


def _changed(project: Project, changeset: ChangeSet) -> list[str]:
    """New or modified migrations of the project, in the framework's order."""
    fw = project.fw
    cut = len(project.migrations) + 1
    base = changeset.base_files([project.migrations])
    found = [p for p, e in changeset.candidate.below(project.migrations).items()
             if fw.looks_like_migration(p[cut:]) and e.mode.startswith("100")
             and (p not in base or base[p].oid != e.oid)]

    def order(path: str) -> tuple[object, ...]:
        version = fw.version(path[cut:])
        return (0, version.key, path) if version is not None and version.key else (1, (), path)

    return sorted(found, key=order)


def _lint_sql_files(project: Project, changeset: ChangeSet, options: LintOptions,
                    paths: list[str]) -> list[Finding]:
    cut = len(project.migrations) + 1
    contents = changeset.candidate.read_many(paths)
    upgrades: dict[str, bytes] = {}
    for path in paths:
        sql = project.fw.upgrade_sql(path[cut:], contents.get(path, b""))
        if sql is not None:
            upgrades[path] = sql
    results = lint_in_order(list(upgrades), upgrades.__getitem__, options,
                            cache=ResultCache(cache_dir(), options))
    return [finding for result in results for finding in result.findings]


def _lint_alembic(project: Project, changeset: ChangeSet, options: LintOptions,
                  paths: list[str]) -> list[Finding]:
    from migration_guard.lint.alembic_snapshot import lint_new_revisions
    from migration_guard.lint.sql_cache import SqlCache

    assert project.alembic_ini is not None
    env_var = project.config.database_url_env if project.config else "DATABASE_URL"
    rendered = SqlCache(os.path.join(cache_dir(), "lint-sql"))
    return lint_new_revisions(project, changeset.candidate, paths, options=options,
                              env_var=env_var, cache=rendered,
                              results=ResultCache(cache_dir(), options))


def check(project: Project, changeset: ChangeSet, config: Config) -> Outcome:
    """The SQL lint over the project's new and modified migrations."""
    paths = _changed(project, changeset)
    if not paths:
        return Outcome(CHECK, project.name, [], [])
    options = lint_options(project, config)
    runner = project.config.runner if project.config is not None else "framework"
    one_transaction = runs_in_one_transaction(project.fw, runner)
    if one_transaction:
        options = options._replace(in_transaction=True)
    if project.fw.python:
        findings = _lint_alembic(project, changeset, options, paths)
    else:
        findings = _lint_sql_files(project, changeset, options, paths)
    if one_transaction:
        findings = project.fw.rehint(findings)
    return Outcome(CHECK, project.name,
                   [f._replace(check=CHECK, project=project.name) for f in findings], [])

