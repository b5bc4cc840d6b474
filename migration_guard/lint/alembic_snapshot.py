"""Lint the new Alembic revisions of a snapshot (the index, or a commit), never the work tree.

Each revision is rendered through the project's own ``env.py`` in offline mode, from files
exported out of the snapshot into a private directory, as ``alembic`` would run in the
directory of ``alembic.ini``. Only the revisions being linted are exported into the
versions directory, with a stand-in for each parent they name: Alembic's revision map
then holds a handful of revisions instead of every file of a long history (the map of
1,000 revisions costs more than the rendering). Rendered SQL is cached outside the work
tree (:mod:`migration_guard.lint.sql_cache`): a second run of the same commit imports
neither alembic nor SQLAlchemy; and so are the findings of the whole set of revisions
(:mod:`migration_guard.lint.result_cache`): a second run parses no SQL either.
"""

from __future__ import annotations

import posixpath

from migration_guard.errors import GuardError
from migration_guard.findings import Finding
from migration_guard.frameworks.alembic import LIBRARY as ALEMBIC_LIBRARY
from migration_guard.frameworks.alembic import Revision, build_graph, depths, parse_revision
from migration_guard.git.changeset import Snapshot
from migration_guard.lint.alembic_sql import (
    OFFLINE_URL,
    in_project,
    lint_revision_sql,
    render_revision_sql,
)
from migration_guard.lint.analysis import Analysis
from migration_guard.lint.options import LintOptions
from migration_guard.lint.result_cache import ResultCache
from migration_guard.lint.sql_cache import SqlCache, key_of, library_version
from migration_guard.projects import Project

_STAND_IN = '''"""Stands in for revision {id}: only the revision after it is rendered."""
revision = {id!r}
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
'''


def lint_new_revisions(project: Project, snapshot: Snapshot, paths: list[str], *,
                       options: LintOptions, env_var: str, cache: SqlCache,
                       results: ResultCache) -> list[Finding]:
    """Lint the given revision files of ``project`` (new or edited ones), parents first;
    the findings of the same revisions in the same project are read back from ``results``
    (their keys hold every input of the rendering and the lint)."""
    texts = snapshot.read_many(paths)
    parsed = [parse_revision(p, texts[p], compile_check=True) for p in paths if p in texts]
    # Unreadable revisions are the linear check's MG118; merge revisions carry no schema
    # operations of their own.
    revisions = [r for r in parsed if isinstance(r, Revision) and len(r.down) <= 1]
    depth = depths(build_graph(revisions).revisions)
    revisions.sort(key=lambda r: (depth.get(r.id, 0), r.path))
    shared = _shared_key(project, snapshot, env_var)
    keys = {r.path: key_of([shared, r.path, _oid(snapshot, r.path)]) for r in revisions}
    batch = results.key("alembic revisions", "\n".join(keys[r.path] for r in revisions).encode())
    known = results.load(batch)
    if known is not None:
        return known.findings
    sqls = {path: sql for path, key in keys.items() if (sql := cache.load(key)) is not None}
    missing = [r for r in revisions if r.path not in sqls]
    if missing:
        rendered = render_revisions(project, snapshot, missing, env_var=env_var)
        for path, sql in rendered.items():
            cache.store(keys[path], sql)
        sqls.update(rendered)
    findings: list[Finding] = []
    created: set[str] = set()
    for rev in revisions:
        result = lint_revision_sql(sqls[rev.path], rev.path,
                                   texts[rev.path].decode("utf-8", "replace"),
                                   options=options, created_tables=created)
        created |= result.created_tables
        findings.extend(result.findings)
    # The batch as a whole: nothing before it in the project's change creates a table.
    results.store(batch, Analysis(findings, frozenset(created), []))
    results.save()
    return findings


def _oid(snapshot: Snapshot, path: str) -> str:
    entry = snapshot.entry(path)
    return entry.oid if entry is not None else ""


def _is_revision_file(project: Project, path: str) -> bool:
    rel = project.rel(path)
    return rel is not None and path != project.env_py and project.fw.is_migration(rel)


def _context_files(project: Project, snapshot: Snapshot) -> list[str]:
    """What rendering reads besides the revisions: alembic.ini, env.py, the templates and
    the project's Python modules (as :func:`~migration_guard.frameworks.alembic.project_files`
    chooses them, over the path list: a cache hit need not build every file's entry)."""
    from migration_guard.frameworks.alembic import project_files

    root = project.root + "/" if project.root else ""
    script_dir = posixpath.dirname(project.env_py or "") + "/"
    versions = project.migrations + "/"
    cut = len(versions)
    paths = [p for p in snapshot.paths if p.startswith(root) and (
        p.endswith(".py") or p == project.alembic_ini or p.startswith(script_dir))
        and not (p.startswith(versions) and "/" not in p[cut:] and p != project.env_py
                 and _is_revision_file(project, p))]
    assert project.alembic_ini is not None and project.env_py is not None
    present = [p for p in paths if snapshot.entry(p) is not None]
    return sorted(project_files(present, alembic_ini=project.alembic_ini, env_py=project.env_py,
                                migrations=project.migrations, root=project.root))


def _shared_key(project: Project, snapshot: Snapshot, env_var: str) -> str:
    """The part of every revision's cache key that the rest of the project decides."""
    from migration_guard import __version__

    parts = [__version__, library_version(ALEMBIC_LIBRARY), library_version("sqlalchemy"),
             env_var, OFFLINE_URL, project.alembic_ini or "", project.migrations]
    for path in _context_files(project, snapshot):
        parts += [path, _oid(snapshot, path)]
    return key_of(parts)


def render_revisions(project: Project, snapshot: Snapshot, revisions: list[Revision], *,
                     env_var: str) -> dict[str, str]:
    """Path -> the SQL each revision renders offline, from a private export of the
    snapshot holding these revisions and stand-ins for their parents."""
    try:
        return _render_in_export(project, snapshot, revisions, env_var=env_var, alone=True)
    except GuardError:
        # A revision may need more of the history than its parents (``depends_on``, a
        # helper module beside it): render it as alembic would, from the whole history.
        return _render_in_export(project, snapshot, revisions, env_var=env_var, alone=False)


def _render_in_export(project: Project, snapshot: Snapshot, revisions: list[Revision], *,
                      env_var: str, alone: bool) -> dict[str, str]:
    """``alone``: the versions directory holds only ``revisions`` and stand-ins for their
    parents; else every file of the project."""
    from migration_guard.frameworks.alembic import project_files
    from migration_guard.git.export import export_files, temporary_directory

    assert project.alembic_ini is not None
    assert project.env_py is not None
    files = _context_files(project, snapshot) if alone else project_files(
        snapshot.files, alembic_ini=project.alembic_ini, env_py=project.env_py,
        migrations=project.migrations, root=project.root)
    from pathlib import Path  # with alembic, rendering imports it anyway

    with temporary_directory("mg-lint-") as tmp:
        root = Path(tmp)
        export_files(snapshot, [*files, *(r.path for r in revisions)], root)
        ids = {r.id for r in revisions} if alone else set(_all_ids(project, snapshot))
        parents = sorted({p for r in revisions for p in r.down if p not in ids})
        versions = root / project.migrations
        versions.mkdir(parents=True, exist_ok=True)
        for number, parent in enumerate(parents):
            name = f"mg_stand_in_{number}.py"
            while posixpath.join(project.migrations, name) in snapshot.files:
                name = "_" + name
            (versions / name).write_text(_STAND_IN.format(id=parent), encoding="utf-8")
        ini = root / project.alembic_ini
        with in_project(ini.parent):
            script_dir = root / posixpath.dirname(project.env_py or "")
            return {r.path: render_revision_sql(ini, r.id, down=r.down, env_var=env_var,
                                                script_location=script_dir)
                    for r in revisions}


def _all_ids(project: Project, snapshot: Snapshot) -> list[str]:
    paths = [p for p in snapshot.below(project.migrations) if _is_revision_file(project, p)]
    return [r.id for p, data in snapshot.read_many(paths).items()
            if isinstance(r := parse_revision(p, data, compile_check=False), Revision)]
