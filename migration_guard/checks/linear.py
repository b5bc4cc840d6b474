"""migrations-linear: new migrations are well named, well formed and come last.

SQL frameworks: names match the pattern, versions are unique, new ones sort after the
base's newest. Alembic: one head, and every new revision descends from the base's head
(plus missing parents, cycles, duplicate ids); in strict mode (``linear: {strict: true}``)
no merge revision and no branch point anywhere in the history. A journal, where the
framework keeps one, agrees with the files.
"""

from __future__ import annotations

import os
import re
import sys
import time

from migration_guard import globs
from migration_guard.cache import Pack, cache_dir, code_stamp, key_of, readable
from migration_guard.config import Config
from migration_guard.findings import Finding, Outcome
from migration_guard.frameworks import Framework, Version
from migration_guard.frameworks.alembic import (
    REVISIONS_FOLDER,
    Graph,
    ParsedRevisions,
    Revision,
    Unreadable,
    build_graph,
)
from migration_guard.git import changeset as changeset_module
from migration_guard.git import repo as repo_module
from migration_guard.git.changeset import ChangeSet
from migration_guard.git.repo import SUBMODULE_MODE, SYMLINK_MODE, Entry
from migration_guard.globs import matches_any
from migration_guard.projects import Project, detection_stamp

CHECK = "linear"
_CONFLICT = rb"^(?:<{7}|={7}|>{7})(?: |$)"
_LFS = b"version https://git-lfs.github.com/spec/v1"


class _LinearCheck:
    def __init__(self, project: Project, changeset: ChangeSet, config: Config) -> None:
        self.project = project
        self.changeset = changeset
        self.config = config
        self.fw: Framework = project.fw
        self.findings: list[Finding] = []

    def add(self, code: str, path: str, line: int | None, message: str, hint: str) -> None:
        self.findings.append(Finding(code, path, line, message, hint,
                                     check=CHECK, project=self.project.name))


def _files(project: Project, inside: dict[str, Entry]) -> dict[str, Entry]:
    """The migrations directory's files (``inside`` holds only those), less the excluded."""
    if not project.exclude:
        return inside
    cut = len(project.migrations) + 1
    return {p: e for p, e in inside.items() if not matches_any(p[cut:], project.exclude)}


def _check_form(ctx: _LinearCheck, new: dict[str, Entry]) -> None:
    """Names, file types and content of new migration files."""
    texts = ctx.changeset.candidate.read_many(
        [p for p, e in new.items() if ctx.fw.looks_like_migration(ctx.project.rel(p) or "")
         and e.mode.startswith("100")])
    for path, entry in sorted(new.items()):
        rel = ctx.project.rel(path) or ""
        if not ctx.fw.looks_like_migration(rel):
            continue
        if entry.mode in (SYMLINK_MODE, SUBMODULE_MODE):
            kind = "a symbolic link" if entry.mode == SYMLINK_MODE else "a submodule"
            ctx.add("MG122", path, None, f"migration is {kind}: its content cannot be reviewed "
                    "or checked", "commit the migration as a regular file")
            continue
        if ctx.fw.version(rel) is None:
            ctx.add("MG111", path, None,
                    f"name does not match the {ctx.fw.name} pattern {ctx.fw.pattern_text}",
                    f"rename it to {ctx.fw.pattern_text}, or list it under `exclude:` if it is "
                    "not a migration")
        data = texts.get(path, b"")
        if data.startswith(_LFS):
            ctx.add("MG122", path, 1, "migration is a Git LFS pointer, not SQL",
                    "commit migrations as plain text, outside Git LFS (.gitattributes)")
        elif b"\0" in data[:8192]:
            ctx.add("MG122", path, None, "migration is a binary file (it contains NUL bytes)",
                    "commit the migration as UTF-8 text")
        elif (match := re.search(_CONFLICT, data, re.MULTILINE)) is not None:
            line = data.count(b"\n", 0, match.start()) + 1
            ctx.add("MG123", path, line, "migration contains a merge conflict marker",
                    "resolve the conflict in the file and stage it again")


def _suggest(newest: Version, rel: str) -> str:
    """A name for ``rel`` that sorts after ``newest``, in the same numbering style."""
    name = rel.rsplit("/", 1)[-1]
    if len(newest.text) == 14 and newest.text.isdigit():
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        return re.sub(r"\d{14}", stamp, rel, count=1)
    if newest.text.isdigit():
        bumped = str(int(newest.text) + 1).zfill(len(newest.text))
        return rel[: len(rel) - len(name)] + re.sub(r"\d+", bumped, name, count=1)
    return f"a name that sorts after version {newest.text}"


def _check_versions(ctx: _LinearCheck, base: dict[str, Entry], candidate: dict[str, Entry],
                    new: dict[str, Entry]) -> None:
    fw, project = ctx.fw, ctx.project
    cut = len(project.migrations) + 1  # every path here is inside the project
    versions: dict[str, Version] = {}
    for path in candidate:
        version = fw.migration_version(path[cut:])
        if version is not None:
            versions[path] = version
    groups: dict[tuple[object, ...], list[str]] = {}
    for path, version in versions.items():
        key = (fw.version_group(path[cut:]), version.key)
        groups.setdefault(key, []).append(path)
    duplicated: set[str] = set()
    for paths in groups.values():
        if len(paths) < 2:
            continue
        for path in sorted(p for p in paths if p in new):
            others = ", ".join(sorted(p for p in paths if p != path))
            duplicated.add(path)
            ctx.add("MG112", path, None,
                    f"version {versions[path].text} is also used by {others}",
                    "give this migration the next free version")
    if not fw.ordered or project.allow_out_of_order:
        return
    merged = [(v, p) for p, v in versions.items() if p in base]
    if not merged:
        return
    newest, newest_path = max(merged)
    for path in sorted(p for p in new if p in versions and p not in duplicated):
        if versions[path].key <= newest.key:
            rel = project.rel(path) or path
            ctx.add("MG110", path, None,
                    f"new migration sorts before {newest_path}, the newest merged migration: "
                    "it would run out of order, or never, where that one already ran",
                    f"rename it so it sorts last: {_suggest(newest, rel)}")


def _check_alembic(ctx: _LinearCheck, base: dict[str, Entry], candidate: dict[str, Entry],
                   new_or_edited: set[str]) -> None:
    parsed = ParsedRevisions(os.path.join(cache_dir(), REVISIONS_FOLDER))
    results, base_revs = _read_revisions(ctx, parsed, base, candidate, new_or_edited)
    parsed.save()
    revisions: list[Revision] = []
    for path, result in results.items():
        if isinstance(result, Unreadable):
            ctx.add("MG118", path, result.line, f"cannot read this revision: {result.reason}",
                    "fix the file so it assigns revision and down_revision as literals")
        else:
            revisions.append(result)
    graph = _check_graph(ctx, revisions, new_or_edited)
    _check_descent(ctx, graph, revisions, base_revs, new_or_edited)


def _read_revisions(ctx: _LinearCheck, parsed: ParsedRevisions, base: dict[str, Entry],
                    candidate: dict[str, Entry], new_or_edited: set[str]
                    ) -> tuple[dict[str, Revision | Unreadable], list[Revision]]:
    """The candidate's revision files parsed (the new and edited ones compiled too), and
    the base's revisions. The base's are parsed as one history: every commit of a branch
    is compared with the same base."""
    fw, cs = ctx.fw, ctx.changeset
    cut = len(ctx.project.migrations) + 1  # every path here is inside the project

    def revision_files(files: dict[str, Entry]) -> dict[str, str]:
        return {p: e.oid for p, e in files.items()
                if fw.is_migration(p[cut:]) and e.mode.startswith("100")}

    merged = parsed.parse_history(revision_files(base),
                                  lambda wanted: cs.read_base({p: base[p] for p in wanted}))
    results = parsed.parse_many(revision_files(candidate), cs.candidate.read_many,
                                compiled=new_or_edited,
                                known={base[p].oid: r for p, r in merged.items()})
    parsed_by_oid = {candidate[p].oid: r for p, r in results.items()}
    base_revs: list[Revision] = []
    for path, entry in base.items():
        if not fw.is_migration(path[cut:]):
            continue
        # As the candidate parsed this blob, where it holds it (a new copy is compiled).
        known = parsed_by_oid.get(entry.oid) or merged.get(path)
        if isinstance(known, Revision):
            base_revs.append(known if known.path == path else known._replace(path=path))
    return results, base_revs


def _check_graph(ctx: _LinearCheck, revisions: list[Revision], new_or_edited: set[str]
                 ) -> Graph:
    """Duplicate ids, missing parents, cycles, strict history and heads of the candidate."""
    graph = build_graph(revisions)
    for first, second in graph.duplicates:
        ctx.add("MG117", second.path, second.line,
                f"revision id {second.id} is also declared by {first.path}",
                "give one of them a new id: alembic revision generates unique ids")
    for rev, parent in graph.missing:
        ctx.add("MG115", rev.path, rev.line,
                f"down_revision {parent} of revision {rev.id} does not exist",
                "point down_revision at an existing revision (alembic heads lists them)")
    for cycle in graph.cycles():
        first = graph.revisions[cycle[0]]
        ctx.add("MG116", first.path, first.line,
                f"revision graph has a cycle: {' -> '.join(cycle)}",
                "break the cycle: each down_revision must name an older revision")
    if strict_history(ctx.project, ctx.config):
        _check_strict(ctx, graph, new_or_edited)
    heads = graph.heads
    if len(heads) > 1:
        listed = ", ".join(f"{h} ({graph.revisions[h].path})" for h in heads)
        # Point at the heads this change made; a base that already forked gets all of them.
        changed_heads = [h for h in heads if graph.revisions[h].path in new_or_edited]
        for head in changed_heads or heads:
            rev = graph.revisions[head]
            ctx.add("MG113", rev.path, rev.line,
                    f"{len(heads)} Alembic heads: {listed}; `alembic upgrade head` fails",
                    f"merge them: alembic merge -m \"merge heads\" {' '.join(heads)}, or "
                    "rebase this revision onto the newest one")
    return graph


def _check_descent(ctx: _LinearCheck, graph: Graph, revisions: list[Revision],
                   base_revs: list[Revision], new_or_edited: set[str]) -> None:
    """Every new revision descends from the base's head (MG114)."""
    base_heads = set(build_graph(base_revs).heads)
    if not base_heads:
        return
    base_ids = {r.id for r in base_revs}
    for rev in revisions:
        if rev.path not in new_or_edited or rev.id in base_ids:
            continue
        missing = base_heads - graph.ancestors(rev.id)
        if missing:
            ctx.add("MG114", rev.path, rev.line,
                    f"revision {rev.id} does not descend from the base's head "
                    f"{', '.join(sorted(missing))}: it starts a second branch",
                    f"set down_revision = {sorted(missing)[0]!r} (rebase it onto the head)")


def strict_history(project: Project, config: Config) -> bool:
    """``linear: {strict: true}``, the project's own setting first."""
    own = dict(project.config.linear) if project.config is not None else {}
    return bool({**dict(config.linear), **own}.get("strict", False))


def _check_strict(ctx: _LinearCheck, graph: Graph, new_or_edited: set[str]) -> None:
    """One unbranched chain: no revision merges two, no revision is the parent of two.
    Findings point at the revisions this change made where it made any: a merged
    revision cannot be edited."""
    children: dict[str, list[str]] = {}
    for rev in sorted(graph.revisions.values(), key=lambda r: r.path):
        if len(rev.down) > 1:
            ctx.add("MG124", rev.path, rev.line,
                    f"revision {rev.id} merges {', '.join(rev.down)}: strict linear history "
                    "allows no merge revisions",
                    "delete the merge revision and rebase one branch onto the other: set the "
                    "down_revision of its first revision to the other branch's head")
        for parent in rev.down:
            children.setdefault(parent, []).append(rev.id)
    for parent, kids in sorted(children.items()):
        if len(kids) < 2:
            continue
        listed = ", ".join(f"{k} ({graph.revisions[k].path})" for k in kids)
        made = [k for k in kids if graph.revisions[k].path in new_or_edited]
        for kid in made or kids:
            rev = graph.revisions[kid]
            ctx.add("MG125", rev.path, rev.line,
                    f"revision {parent} is the down_revision of {len(kids)} revisions: "
                    f"{listed}; strict linear history allows one",
                    "rebase this revision onto the newest one: set its down_revision to the "
                    "current head (alembic heads)")


def _check_journal(ctx: _LinearCheck, candidate: dict[str, Entry]) -> None:
    """The framework's list of migrations agrees with the files and extends the base's."""
    project = ctx.project
    files = {project.rel(p) or "": p for p in candidate
             if ctx.fw.looks_like_migration(project.rel(p) or "")}
    for finding in ctx.fw.journal_findings(project, ctx.changeset, files):
        ctx.findings.append(finding._replace(check=CHECK, project=project.name))


#: The cache folder of projects found clean before (see :func:`_clean_key`), how many are
#: kept, and the form of the key (bump when what it covers changes).
CLEAN_FOLDER = "linear-clean"
KEPT_CLEAN = 256
CLEAN_FORMAT = "linear-clean-1"


def check(project: Project, changeset: ChangeSet, config: Config) -> Outcome:
    """MG110-MG126: names, order, duplicates, form, the revision graph and the journal of new
    migrations.

    A project found clean is kept as such under everything the verdict follows from: a
    repeated run over the same migrations (a commit tried again after another hook failed)
    reads it instead of going over every merged migration again (~5 ms per 1,000). Findings
    are worked out every time (a hint may name the current time)."""
    key = _clean_key(project, changeset, config)
    pack = Pack(os.path.join(cache_dir(), CLEAN_FOLDER) if key else None, keep=KEPT_CLEAN)
    if key is not None and pack.get(key) is True:
        return Outcome(CHECK, project.name, [], [])
    outcome = _check(project, changeset, config)
    if key is not None and not outcome.findings and not outcome.notes:
        pack.put(key, True)
        pack.save()
    return outcome


def _clean_key(project: Project, changeset: ChangeSet, config: Config) -> str | None:
    """What the verdict on ``project`` follows from: the project as resolved (its directory,
    framework, excludes and settings), the top-level ``linear`` settings, the base commit
    (which names the base's files), the candidate's files of the migrations directory (paths,
    modes and blob ids: every byte the check reads lies there), the interpreter (which
    compiles new revisions) and the code. None when the code's files cannot be read."""
    detection = detection_stamp()
    code = code_stamp((), [m.__file__ for m in (sys.modules[__name__], changeset_module,
                                                 repo_module, globs) if m.__file__ is not None])
    if detection is None or not readable(code):
        return None
    files = changeset.candidate.below(project.migrations)
    listed = "".join(f"{p}\0{e.mode}\0{e.oid}\0" for p, e in files.items())
    return key_of((CLEAN_FORMAT, detection, *code, sys.version, repr(project),
                   repr(config.linear), changeset.mode, changeset.base.commit or "", listed))


def _check(project: Project, changeset: ChangeSet, config: Config) -> Outcome:
    ctx = _LinearCheck(project, changeset, config)
    base = _files(project, project.inside(changeset.base_files([project.migrations])))
    candidate = _files(project, changeset.candidate.below(project.migrations))
    new = {p: e for p, e in candidate.items() if p not in base}
    edited = {p for p, e in candidate.items() if p in base and base[p] != e}
    _check_form(ctx, new)
    if project.fw.python:
        _check_alembic(ctx, base, candidate, set(new) | edited)
    else:
        _check_versions(ctx, base, candidate, new)
    if project.fw.journal:
        _check_journal(ctx, candidate)
    return Outcome(CHECK, project.name, ctx.findings, [])
