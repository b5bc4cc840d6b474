"""migrations-required: a change to a project's schema sources must add a migration."""

from __future__ import annotations

from migration_guard.config import Config
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.git.changeset import ChangeSet
from migration_guard.git.repo import Change
from migration_guard.globs import glob_to_regex
from migration_guard.projects import Project

CHECK = "required"


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(glob_to_regex(p).fullmatch(path) or path.startswith(p.rstrip("/") + "/")
               for p in patterns)


def _literal_part(pattern: str) -> str:
    """The file or directory a glob stays in: its part before the first wildcard, up to a
    "/" ("" when the glob can match anywhere)."""
    wild = min((i for i in (pattern.find(c) for c in "*?[") if i != -1), default=-1)
    if wild == -1:
        return pattern.rstrip("/")
    return pattern[:wild].rpartition("/")[0]


def resolve_schema(project: Project, changeset: ChangeSet) -> tuple[tuple[str, ...], str]:
    """The project's schema globs and where they came from (env.py is read on demand)."""
    if project.schema is not None:
        return project.schema, project.schema_from
    if project.env_py is None:
        return (), "no schema source"
    from migration_guard.frameworks.alembic_env import schema_sources  # it parses: ast

    files = set(changeset.candidate.paths)
    globs, origin = schema_sources(project.env_py, list(project.module_roots), files,
                                   changeset.candidate.read)
    return tuple(globs), origin


def _cosmetic_edits(changeset: ChangeSet, changed: list[Change]) -> set[str]:
    """The modified Python files whose code is the same on both sides of the change:
    only comments, docstrings, blank lines or formatting differ."""
    candidates = [c.path for c in changed if c.status == "M" and c.path.endswith(".py")]
    if not candidates or changeset.since is None:
        return set()
    from migration_guard.checks.python_code import same_code

    old_entries = changeset.git.ls_tree(changeset.since, candidates)
    old = changeset.read_base({p: e for p, e in old_entries.items()
                               if p in candidates and e.mode.startswith("100")})
    new = changeset.candidate.read_many(candidates)
    return {p for p in candidates if p in old and p in new and same_code(old[p], new[p])}


def _may_touch_schema(project: Project, changeset: ChangeSet) -> bool:
    """Whether the change may touch a schema source: anything outside the migrations does,
    unless the sources are the modules behind env.py's metadata (Python files, see
    :func:`~migration_guard.frameworks.alembic_env.schema_sources`) and no Python file
    outside the migrations changed. Then env.py is not read, nor ast imported (~17 M
    instructions, callgrind: with only SQL staged, this hook went from ~148 M to ~126 M)."""
    outside = [c.path for c in changeset.changes if project.rel(c.path) is None]
    if project.schema is not None or project.env_py is None:
        return bool(outside)
    return any(path.endswith(".py") for path in outside)


def _adds_migration(project: Project, changeset: ChangeSet, changes: list[Change]) -> bool:
    """A new migration, or an edit of one not merged yet, is part of the change."""
    for change in changes:
        rel = project.rel(change.path)
        if rel is None or not project.fw.is_migration(rel):
            continue
        if change.status == "A" or (change.status == "M" and change.path not in
                                    changeset.base_files([project.migrations])):
            return True
    return False


def check(project: Project, changeset: ChangeSet, config: Config) -> Outcome:
    """The file rule: a schema source's code changed and no migration came with it."""
    return judge(project, changeset, config, prove=False)


def check_proven(project: Project, changeset: ChangeSet, config: Config) -> Outcome:
    """The file rule, and where it fails, the database's word on Alembic model changes."""
    return judge(project, changeset, config, prove=True)


def judge(project: Project, changeset: ChangeSet, config: Config, *, prove: bool) -> Outcome:
    """``prove``: judge Alembic model changes on a database (the migrations applied vs the
    new models) where the file rule alone would fail."""
    # Unknown schema sources (an env.py that cannot be read) matter only once a change that
    # may touch them is made: resolve_schema raises after this check, never before it.
    if changeset.mode == "all" or not _may_touch_schema(project, changeset):
        return Outcome(CHECK, project.name, [], [])
    schema, origin = resolve_schema(project, changeset)
    if not schema:
        return Outcome(CHECK, project.name, [], [])
    # Only the migrations and the schema sources' files and directories need diffing.
    changes = changeset.changes_in([project.migrations, *map(_literal_part, schema)])
    changed = [c for c in changes if project.rel(c.path) is None and _matches(c.path, schema)]
    if not changed or _adds_migration(project, changeset, changes):
        return Outcome(CHECK, project.name, [], [])
    cosmetic = _cosmetic_edits(changeset, changed)
    notes = [Note(path, "only comments, docstrings or formatting changed: no migration "
                  "needed (judged by file)", check=CHECK, project=project.name)
             for path in sorted(cosmetic)]
    changed = [c for c in changed if c.path not in cosmetic]
    if not changed:
        return Outcome(CHECK, project.name, [], notes)
    python = project.fw.python
    if prove and python:
        from migration_guard.checks.model_proof import prove_model_change

        findings, proof_notes = prove_model_change(project, changeset, config,
                                                   [c.path for c in changed])
        return Outcome(CHECK, project.name, findings, notes + proof_notes)
    alembic = python
    how = "; judged by file" if alembic else ""
    hint = f"generate one and stage it: {project.generate_command}"
    if alembic:
        hint += "; if the change has no schema effect, prove it: migration-guard required --prove"
    findings = [
        Finding(
            "MG101", change.path, None,
            f"schema source {'deleted' if change.status == 'D' else 'changed'} but no migration "
            f"was added to {project.migrations}/ ({origin}{how})",
            hint, check=CHECK, project=project.name,
        )
        for change in changed
    ]
    # The fast rule would fail: let a generator judge it where there is one (a configured
    # generate_check, the framework's own generator).
    from migration_guard.checks.generate_check import judge as judge_by_generator

    judged = judge_by_generator(project, changeset, findings)
    return judged._replace(notes=notes + judged.notes)
