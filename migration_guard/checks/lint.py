"""migrations-lint: the SQL that new or modified migrations run, linted with pglast.

Only what the change adds or edits is linted, in the framework's order, and tables a
migration of the same change created are known to later ones (no locking findings for an
index on a table created in the same change). Alembic revisions are linted as the SQL
they render offline, exported from the snapshot (never read from the working tree).
"""

from __future__ import annotations

from pathlib import Path

from migration_guard.changeset import ChangeSet
from migration_guard.config import Config
from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Outcome
from migration_guard.lint import LintOptions, enabled_codes, lint_bytes
from migration_guard.projects import Project

CHECK = "lint"
_DBMATE_DOWN = b"-- migrate:down"


def lint_options(project: Project, config: Config) -> LintOptions:
    """The config's lint section, overridden by the project's own; the server major is
    ``postgres.version`` (a project's own ``lint.pg_version`` still overrides it)."""
    own = dict(project.config.lint) if project.config is not None else {}
    shared = {**dict(config.lint),
              "pg_version": config.pg_version or LintOptions._field_defaults["pg_version"]}
    options = LintOptions()._replace(**{**shared, **own})
    try:
        enabled_codes(options)
    except GuardError as error:
        raise GuardError(f"{config.source}: lint: {error.message}", error.hint) from None
    return options


def _sql_of(project: Project, rel: str, data: bytes) -> bytes | None:
    """The part of a file that runs on upgrade (None: the file is not linted)."""
    if project.framework == "golang-migrate" and not rel.endswith(".up.sql"):
        return None
    if project.framework == "flyway" and rel.rsplit("/", 1)[-1].startswith("U"):
        return None
    if project.framework == "dbmate":
        up, marker, down = data.partition(_DBMATE_DOWN)
        # Blank the down section but keep its lines, so line numbers stay true.
        return up + (b"\n" * (marker + down).count(b"\n") if marker else b"")
    return data


def _changed(project: Project, changeset: ChangeSet) -> list[str]:
    """New or modified migrations of the project, in the framework's order."""
    fw = project.fw
    cut = len(project.migrations) + 1
    base = changeset.base_files([project.migrations])
    found = [p for p, e in project.inside(changeset.candidate.files).items()
             if fw.looks_like_migration(p[cut:]) and e.mode.startswith("100")
             and (p not in base or base[p].oid != e.oid)]

    def order(path: str) -> tuple[object, ...]:
        version = fw.version(path[cut:])
        return (0, version.key, path) if version is not None and version.key else (1, (), path)

    return sorted(found, key=order)


def _lint_sql_files(project: Project, changeset: ChangeSet, options: LintOptions,
                    paths: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    created: set[str] = set()
    cut = len(project.migrations) + 1
    contents = changeset.candidate.read_many(paths)
    for path in paths:
        sql = _sql_of(project, path[cut:], contents.get(path, b""))
        if sql is None:
            continue
        result = lint_bytes(sql, path, options=options, created_tables=created)
        created |= result.created_tables
        findings.extend(result.findings)
    return findings


def _lint_alembic(project: Project, changeset: ChangeSet, options: LintOptions,
                  paths: list[str]) -> list[Finding]:
    from migration_guard.export import export_files, python_project_files, temporary_directory
    from migration_guard.frameworks.alembic import Revision, build_graph, parse_revision
    from migration_guard.lint.alembic_sql import lint_alembic_revision

    assert project.alembic_ini is not None
    texts = changeset.candidate.read_many(paths)
    revisions = [r for p in paths
                 if isinstance(r := parse_revision(p, texts[p], compile_check=True), Revision)]
    graph = build_graph(revisions)
    ordered = sorted(revisions, key=lambda r: (len(graph.ancestors(r.id)), r.path))
    findings: list[Finding] = []
    created: set[str] = set()
    with temporary_directory("mg-lint-") as tmp:
        export_files(changeset.candidate, python_project_files(changeset.candidate,
                                                                project.root), Path(tmp))
        ini = Path(tmp) / project.alembic_ini
        for rev in ordered:
            if len(rev.down) > 1:
                continue  # merge revisions carry no schema operations of their own
            result = lint_alembic_revision(
                ini, rev.id, rev.path, texts[rev.path].decode("utf-8", "replace"),
                options=options, created_tables=created)
            created |= result.created_tables
            findings.extend(result.findings)
    return findings


def check(project: Project, changeset: ChangeSet, config: Config) -> Outcome:
    paths = _changed(project, changeset)
    if not paths:
        return Outcome(CHECK, project.name, [], [])
    options = lint_options(project, config)
    if project.framework == "alembic":
        findings = _lint_alembic(project, changeset, options, paths)
    else:
        findings = _lint_sql_files(project, changeset, options, paths)
    return Outcome(CHECK, project.name,
                   [f._replace(check=CHECK, project=project.name) for f in findings], [])
