"""What a checking command works on, assembled from its arguments and the environment: the
change set (the index, a range, the whole tree, or a pull request in GitHub Actions), the
config read from that change's candidate tree, and the projects it declares or detects.

Every command that checks something goes through :func:`resolve`; :func:`run_checks` runs
named checks over the result and renders the outcomes. Environment variables reach the
package here and in the commands, never deeper.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import NamedTuple, TextIO

from migration_guard.config import Config
from migration_guard.errors import GuardError
from migration_guard.git.changeset import ChangeSet
from migration_guard.projects import Project


class Scope(NamedTuple):
    changes: ChangeSet
    config: Config
    projects: list[Project]


def _range_from_env(args: argparse.Namespace, environ: dict[str, str]) -> None:
    """``PRE_COMMIT_FROM_REF``/``PRE_COMMIT_TO_REF``: range mode under ``pre-commit run
    --from-ref`` and on pre-push."""
    if args.from_ref is None and args.to_ref is None and not args.all:
        args.from_ref = environ.get("PRE_COMMIT_FROM_REF") or None
        args.to_ref = environ.get("PRE_COMMIT_TO_REF") or None
    if args.to_ref is not None and args.from_ref is None and not args.all:
        raise GuardError("--to-ref needs --from-ref", "give both ends of the range")


def resolve(args: argparse.Namespace, environ: dict[str, str]) -> Scope:
    """The change set, config and projects the arguments name (``GIT_INDEX_FILE`` is honoured
    by :class:`~migration_guard.git.repo.Git`, which receives ``environ``)."""
    from migration_guard.git import changeset as cs
    from migration_guard.git.repo import Git
    from migration_guard.git.shallow import Shallow

    _range_from_env(args, environ)
    git = Git.discover(os.path.abspath(args.directory), environ)
    in_actions = environ.get("GITHUB_ACTIONS") == "true"
    fetch = getattr(args, "fetch", None)
    shallow = Shallow(git, fetch=in_actions if fetch is None else fetch)
    ci = None
    if not args.all and args.from_ref is None and args.base is None and in_actions:
        from migration_guard.git.ci_base import github_base

        ci = github_base(git, environ, shallow)
    if ci is not None:
        changes = cs.ranged(git, ci.ref, "HEAD", base_ref=ci.ref, base_origin=ci.origin,
                            to_origin=ci.head_origin)
        config = _config(changes, args)
    elif args.all:
        changes = cs.whole_tree(git, args.to_ref)
        config = _config(changes, args)
    elif args.from_ref is not None:
        shallow.prepare_range(args.from_ref, args.to_ref or "HEAD", args.base)
        changes = cs.ranged(git, args.from_ref, args.to_ref or "HEAD",
                            base_ref=args.base, base_origin="--base")
        config = _config(changes, args)
    else:
        from migration_guard.config import load_config

        index = cs.Snapshot(git, None, "the index (staged changes)")
        config = load_config(index.read, args.config)
        base_ref, origin = (args.base, "--base") if args.base else (
            config.base, f"base in {config.source}")
        changes = cs.staged(git, index, base_ref=base_ref, base_origin=origin)
    return Scope(changes, config, _projects(changes, config, getattr(args, "project", None)))


def _config(changes: ChangeSet, args: argparse.Namespace) -> Config:
    from migration_guard.config import load_config

    return load_config(changes.candidate.read, args.config)


def _projects(changes: ChangeSet, config: Config, only: Sequence[str] | None) -> list[Project]:
    from migration_guard.projects import from_config, select

    candidate = changes.candidate
    projects = from_config(config, candidate.paths, candidate.read, candidate.read_many)
    if only:
        chosen = {p.name for name in only for p in select(projects, name)}
        projects = [p for p in projects if p.name in chosen]
    return projects


def run_checks(names: Sequence[str], args: argparse.Namespace, environ: dict[str, str],
               out: TextIO) -> int:
    """Run the named checks over what the arguments select; render; the exit code."""
    return run_in(resolve(args, environ), names, args, environ, out)


def run_in(scope: Scope, names: Sequence[str], args: argparse.Namespace,
           environ: dict[str, str], out: TextIO) -> int:
    """Run the named checks over ``scope``; render; the exit code."""
    from migration_guard.checks import run_checks as run_named
    from migration_guard.commands.options import server_url, summary_path
    from migration_guard.report import exit_code, render

    config = scope.config._replace(
        database=scope.config.database._replace(url=server_url(args, environ)))
    outcomes = run_named(names, scope.changes, scope.projects, config)
    render(outcomes, scope.changes.summary, args.format, out,
           summary_path=summary_path(args, environ))
    return exit_code(outcomes)
