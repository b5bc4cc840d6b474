"""What a checking command works on, assembled from its arguments and the environment: the
change set (the index, a range, the whole tree, or a pull request in GitHub Actions), the
config read from that change's candidate tree, and the projects it declares or detects.

Every command that checks something goes through :func:`resolve`; :func:`run_checks` runs
named checks over the result and renders the outcomes. Environment variables reach the
package here and in the commands, never deeper.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence

from migration_guard.errors import GuardError
from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # imported by resolve, while git looks for the repository
    import argparse
    from typing import TextIO

    from migration_guard.config import Config
    from migration_guard.findings import Outcome
    from migration_guard.git.changeset import ChangeSet
    from migration_guard.git.repo import Git
    from migration_guard.git.shallow import Shallow
    from migration_guard.projects import BaseTree, Project

#: What every checking command goes on to use once the repository is found: imported
#: while git looks for it (~4 ms of imports, ~2 ms of git that are then not waited for).
_NEEDED_NEXT = ("migration_guard.config", "migration_guard.git.changeset",
                "migration_guard.projects")


class Scope(NamedTuple):
    changes: ChangeSet
    config: Config
    projects: list[Project]
    config_note: str = ""  # the header's word on a config edited but not staged

    @property
    def header(self) -> str:
        return self.changes.summary + (f"; {self.config_note}" if self.config_note else "")


def _range_from_env(args: argparse.Namespace, environ: dict[str, str]) -> None:
    """``PRE_COMMIT_FROM_REF``/``PRE_COMMIT_TO_REF``: range mode under ``pre-commit run
    --from-ref`` and on pre-push."""
    if args.from_ref is None and args.to_ref is None and not args.all:
        args.from_ref = environ.get("PRE_COMMIT_FROM_REF") or None
        args.to_ref = environ.get("PRE_COMMIT_TO_REF") or None
    if args.to_ref is not None and args.from_ref is None and not args.all:
        raise GuardError("--to-ref needs --from-ref", "give both ends of the range")


def resolve(args: argparse.Namespace, environ: dict[str, str], *,
            checks: Sequence[str] = ()) -> Scope:
    """The change set, config and projects the arguments name (``GIT_INDEX_FILE`` is honoured
    by :class:`~migration_guard.git.repo.Git`, which receives ``environ``). ``checks``: the
    checks the run goes on to, whose modules are loaded while git lists the index."""
    from migration_guard.git.repo import Git

    _range_from_env(args, environ)
    in_actions = environ.get("GITHUB_ACTIONS") == "true"
    # The staged change (a hook's) lists the index: git starts on it at once.
    staged = not args.all and args.from_ref is None and not (in_actions and args.base is None)
    discovering = Git.start_discover(os.path.abspath(args.directory), environ, listing=staged)
    for module in _NEEDED_NEXT:
        importlib.import_module(module)
    git = discovering()
    from migration_guard.git import changeset as cs

    ci = None
    if not args.all and args.from_ref is None and args.base is None and in_actions:
        from migration_guard.git.ci_base import github_base

        ci = github_base(git, environ, _shallow(git, args, in_actions=in_actions))
    if ci is not None:
        changes = cs.ranged(git, ci.ref, "HEAD", base_ref=ci.ref, base_origin=ci.origin,
                            to_origin=ci.head_origin)
        config = _config(changes.candidate.read, git, args)
    elif args.all:
        changes = cs.whole_tree(git, args.to_ref)
        config = _config(changes.candidate.read, git, args)
    elif args.from_ref is not None:
        shallow = _shallow(git, args, in_actions=in_actions)
        shallow.prepare_range(args.from_ref, args.to_ref or "HEAD", args.base)
        changes = cs.ranged(git, args.from_ref, args.to_ref or "HEAD",
                            base_ref=args.base, base_origin="--base")
        config = _config(changes.candidate.read, git, args)
    else:
        return _staged(git, args, checks)
    return Scope(changes, config, _projects(changes, config, getattr(args, "project", None)))


def _shallow(git: Git, args: argparse.Namespace, *, in_actions: bool) -> Shallow:
    """What fetches the commits a shallow clone lacks (ranges and CI only: the staged
    change is compared with commits a clone that can commit has)."""
    from migration_guard.git.shallow import Shallow

    fetch = getattr(args, "fetch", None)
    return Shallow(git, fetch=in_actions if fetch is None else fetch)


def _staged(git: Git, args: argparse.Namespace, checks: Sequence[str]) -> Scope:
    """The index against HEAD, with the config the index holds."""
    from migration_guard.checks import READ_CHANGES
    from migration_guard.git import changeset as cs

    index = cs.Snapshot(git, None, "the index (staged changes)")
    _load_while_listing(checks)
    config = _config(index.read, git, args)
    note = _unstaged_config_note(git, index.read, config, args)
    base_ref, origin = (args.base, "--base") if args.base else (
        config.base, f"base in {config.source}")
    changes = cs.staged(git, index, base_ref=base_ref, base_origin=origin)
    diffing = not checks or not READ_CHANGES.isdisjoint(checks)
    return Scope(changes, config, _projects(changes, config, getattr(args, "project", None),
                                            diffing=diffing), note)


def _load_while_listing(checks: Sequence[str]) -> None:
    """Import what the run needs next while git lists the index (~6 ms for 10,000 files,
    which then no longer wait): the modules of the checks to run. (The frameworks' are
    imported by detection, when there is no kept detection of this index.)"""
    from migration_guard.checks import get

    for name in checks:
        get(name)


def _unstaged_config_note(git: Git, read: Callable[[str], bytes | None], config: Config,
                          args: argparse.Namespace) -> str:
    """The staged run reads the index's config: say so when the work tree's says otherwise
    (a --config outside the repository is read from disk, so it cannot differ)."""
    if config.source is not None and os.path.isabs(config.source):
        return ""
    explicit = None
    if args.config is not None:
        explicit = os.path.relpath(
            os.path.realpath(os.path.join(os.path.abspath(args.directory), args.config)),
            os.path.realpath(git.toplevel)).replace(os.sep, "/")
    return unstaged_config_note(config, read, disk_reader(git.toplevel), explicit)


# A run over the staged change reads the config from the index, as it reads everything it
# judges: an edit of the config that is not staged does not count. That is right, and
# surprising when nobody says so: the header names the staged config then.
Reader = Callable[[str], "bytes | None"]


def disk_reader(root: str) -> Reader:
    """Files of the work tree below ``root``, by repository-relative path (None: missing)."""
    def read(rel: str) -> bytes | None:
        try:
            with open(os.path.join(root, *rel.split("/")), "rb") as handle:
                return handle.read()
        except OSError:
            return None
    return read


def unstaged_config_note(staged: Config, read_staged: Reader, read_worktree: Reader,
                         explicit: str | None) -> str:
    """``""`` when the work tree's config means what the staged one does; else the words
    for the header saying the staged config was used."""
    from migration_guard.config import PYPROJECT_NAME, YAML_NAME, load_config

    paths = [explicit] if explicit else [YAML_NAME, PYPROJECT_NAME]
    differing = [p for p in paths if read_staged(p) != read_worktree(p)]
    if not differing:
        return ""
    try:
        unstaged: Config | None = load_config(read_worktree, explicit)
    except GuardError:
        unstaged = None  # broken in the work tree: not what runs, say so
    if unstaged is not None and unstaged._replace(source=None) == staged._replace(source=None):
        return ""  # another section of pyproject.toml, a comment: nothing the run would use
    if staged.source is None:
        return f"config: none staged (the unstaged {differing[0]} is not used)"
    return f"config: {staged.source} as staged (its unstaged changes are not used)"


def _base_tree(changes: ChangeSet) -> tuple[list[str], Callable[[str], bytes | None]]:
    """The base tree's paths and a reader of its files, for detection."""
    assert changes.base.commit is not None
    files = changes.git.ls_tree(changes.base.commit)

    def read(path: str) -> bytes | None:
        entry = files.get(path)
        return changes.read_base({path: entry})[path] if entry is not None else None

    return list(files), read


def _base_if_deleting(changes: ChangeSet) -> BaseTree:
    """The base tree for detection, listed only when the change deletes a file. The diff
    that says so starts now and runs while the candidate is detected."""
    changes.start_changes()

    def listed() -> tuple[list[str], Callable[[str], bytes | None]] | None:
        if not any(c.status == "D" for c in changes.changes):
            return None
        return _base_tree(changes)

    return listed


def _config(read: Callable[[str], bytes | None], git: Git, args: argparse.Namespace) -> Config:
    """The config of the checked snapshot (``read``); ``--config`` names a file of the
    snapshot, or one outside the repository, read from disk (a team's shared config)."""
    from migration_guard.config import load_config

    if args.config is None:
        return load_config(read, None)
    path = os.path.realpath(os.path.join(os.path.abspath(args.directory), args.config))
    inside = os.path.relpath(path, os.path.realpath(git.toplevel))
    if inside != ".." and not inside.startswith("../"):
        return load_config(read, inside.replace(os.sep, "/"))
    return load_config(_read_disk, path)


def _read_disk(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise GuardError(f"cannot read {path}: {error.strerror}", "check the path given to "
                         "--config") from None


def _projects(changes: ChangeSet, config: Config, only: Sequence[str] | None, *,
              diffing: bool = True) -> list[Project]:
    """The projects to check (``only``: these names). ``diffing``: the checks to run read
    the diff, which is then started now (detection starts it anyway), to run meanwhile."""
    from migration_guard.projects import select

    candidate = changes.candidate
    layout = candidate.layout() if config.projects is None else None
    if layout is None:
        projects = _found(changes, config, candidate.read_many)
    else:  # detection alone, in the index: what an earlier run found there is kept
        from migration_guard.cache import cache_dir
        from migration_guard.projects import DETECTED_FOLDER, KeptDetection, ReadLog

        def blob_of(path: str) -> str | None:
            entry = candidate.entry(path)
            return entry.oid if entry is not None and entry.mode.startswith("100") else None

        kept = KeptDetection(os.path.join(cache_dir(), DETECTED_FOLDER), layout,
                             changes.since, changes.base.commit)
        found = kept.get(blob_of)
        if found is None:
            log = ReadLog(candidate.read_many, blob_of)
            found = _found(changes, config, log.read_many)
            kept.put(found, log.blobs)
        elif diffing and changes.base.commit is not None:
            changes.start_changes()
        projects = found
    if only:
        chosen = {p.name for name in only for p in select(projects, name)}
        projects = [p for p in projects if p.name in chosen]
    return projects


def _found(changes: ChangeSet, config: Config,
           read_many: Callable[[list[str]], Mapping[str, bytes]]) -> list[Project]:
    """The projects the config declares, completed or found by detection, reading the
    candidate's files with ``read_many``."""
    from migration_guard.projects import from_config

    candidate = changes.candidate
    # A project can vanish from the candidate only by deletions: then the base tree is
    # detected too, so a deleted or moved migrations directory is still compared.
    base = _base_if_deleting(changes) \
        if changes.base.commit is not None and config.projects is None else None
    return from_config(config, candidate.paths, lambda path: read_many([path]).get(path),
                       read_many, base=base, links=candidate.symbolic_links())


def run_checks(names: Sequence[str], args: argparse.Namespace, environ: dict[str, str],
               out: TextIO) -> int:
    """Run the named checks over what the arguments select; render; the exit code."""
    return run_in(resolve(args, environ, checks=names), names, args, environ, out)


def run_in(scope: Scope, names: Sequence[str], args: argparse.Namespace,
           environ: dict[str, str], out: TextIO) -> int:
    """Run the named checks over ``scope``; render; the exit code."""
    from migration_guard.checks import run_checks as run_named
    from migration_guard.commands.options import server_url, summary_path
    from migration_guard.report import exit_code, render

    config = scope.config._replace(
        database=scope.config.database._replace(url=server_url(args, environ)))
    outcomes, failure = run_named(names, scope.changes, scope.projects, config,
                                  prove=getattr(args, "prove", False))
    if failure is not None and not outcomes:
        raise failure  # nothing ran: nothing to show first
    fail_on = scope.config.fail_on
    render(outcomes, scope.header, args.format, out,
           summary_path=summary_path(args, environ),
           nothing_checked=_nothing_checked(scope, names), fail_on=fail_on, failure=failure)
    for fmt, path in getattr(args, "report_file", ()):
        _write_report(outcomes, scope.header, fmt,
                      os.path.join(os.path.abspath(args.directory), path), fail_on, failure)
    if failure is not None:
        raise failure  # after the findings of the checks that ran: exit 2
    return exit_code(outcomes, fail_on)


def _write_report(outcomes: Sequence[Outcome], header: str, fmt: str, path: str,
                  fail_on: str, failure: GuardError | None) -> None:
    """One more document of the same run (``check --report-file FORMAT=FILE``)."""
    from migration_guard.report import render

    try:
        with open(path, "w", encoding="utf-8", newline="\n") as report:
            render(outcomes, header, fmt, report, fail_on=fail_on, failure=failure)
    except OSError as exc:
        raise GuardError(f"cannot write the {fmt} report to {path}: {exc.strerror}",
                         "give --report-file a path in a directory that exists") from None


def _nothing_checked(scope: Scope, names: Sequence[str]) -> str:
    """Why a run checks nothing, when the config says so on purpose."""
    from migration_guard.config import YAML_NAME

    source = scope.config.source or YAML_NAME
    if not names:
        return f"no checks enabled (`checks: []` in {source}): nothing was checked"
    if not scope.projects:
        return f"no migration projects (`projects: []` in {source}): nothing to check"
    return ""
