"""The ``migration-guard`` command: parse arguments, read the environment, run, report.

Environment variables are read here and nowhere else: ``PRE_COMMIT_FROM_REF`` /
``PRE_COMMIT_TO_REF`` (range mode under ``pre-commit run --from-ref``, and on pre-push)
and ``GIT_INDEX_FILE`` (``git commit -a`` stages into a temporary index).
Exit codes: 0 clean, 1 findings, 2 could not check.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from migration_guard.errors import GuardError

FAST_COMMANDS = {
    "required": "a schema change comes with a new migration",
    "immutable": "no migration present on the base is edited, deleted, renamed or mode-changed",
    "linear": "new migrations are well named and sort after the base's newest",
}


def _add_range_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("what to check (default: the staged change)")
    group.add_argument("--from-ref", help="check the range FROM_REF..TO_REF instead of the index")
    group.add_argument("--to-ref", help="end of the range (default HEAD)")
    group.add_argument("--base", help="the branch whose migrations count as merged "
                       "(default: --from-ref, else origin/HEAD, origin/main, ..., main, master)")
    group.add_argument("--all", action="store_true",
                       help="check every migration as if all were new (first adoption)")
    parser.add_argument("--config", help="config file (default .migration-guard.yaml or "
                        "[tool.migration-guard] in pyproject.toml)")
    parser.add_argument("--format", choices=("text", "github"), default="text",
                        help="output format (default text)")
    parser.add_argument("-C", dest="directory", default=".", help="run as if started in this "
                        "directory")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migration-guard",
        description="Guard database schema migrations in git: pre-commit hooks and CI checks.",
    )
    from migration_guard import __version__

    parser.add_argument("--version", action="version", version=f"migration-guard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in FAST_COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        _add_range_options(sub)
    check = commands.add_parser("check", help="run every enabled check (what CI runs)")
    _add_range_options(check)
    check.add_argument("--fast", action="store_true",
                       help="only the fast checks (the combined `migration-guard` hook)")
    check.add_argument("--checks", help="comma-separated checks to run (overrides the config)")
    return parser


def _range_from_env(args: argparse.Namespace, environ: dict[str, str]) -> None:
    if args.from_ref is None and args.to_ref is None and not args.all:
        args.from_ref = environ.get("PRE_COMMIT_FROM_REF") or None
        args.to_ref = environ.get("PRE_COMMIT_TO_REF") or None
    if args.to_ref is not None and args.from_ref is None and not args.all:
        raise GuardError("--to-ref needs --from-ref", "give both ends of the range")


def run(argv: Sequence[str] | None, environ: dict[str, str]) -> int:
    args = build_parser().parse_args(argv)
    _range_from_env(args, environ)
    from migration_guard import changeset as cs
    from migration_guard.checks import run_checks
    from migration_guard.config import FAST_CHECKS, load_config
    from migration_guard.gitrepo import Git
    from migration_guard.projects import from_config
    from migration_guard.report import exit_code, render

    git = Git.discover(os.path.abspath(args.directory), environ)
    if args.all:
        changes = cs.whole_tree(git, args.to_ref)
        config = load_config(changes.candidate.read, args.config)
    elif args.from_ref is not None:
        changes = cs.ranged(git, args.from_ref, args.to_ref or "HEAD",
                            base_ref=args.base, base_origin="--base")
        config = load_config(changes.candidate.read, args.config)
    else:
        index = cs.Snapshot(git, None, "the index (staged changes)")
        config = load_config(index.read, args.config)
        base_ref, origin = (args.base, "--base") if args.base else (
            config.base, f"base in {config.source}")
        changes = cs.staged(git, index, base_ref=base_ref, base_origin=origin)
    projects = from_config(config, list(changes.candidate.files), changes.candidate.read)
    if args.command in FAST_COMMANDS:
        names: Sequence[str] = [args.command]
    elif args.checks:
        names = [c.strip() for c in args.checks.split(",") if c.strip()]
    else:
        names = [c for c in config.checks if not args.fast or c in FAST_CHECKS]
    unknown = [n for n in names if n not in FAST_CHECKS]
    if unknown:
        raise GuardError(f"check not available yet: {', '.join(unknown)}",
                         f"run one of: {', '.join(FAST_CHECKS)}")
    outcomes = run_checks(names, changes, projects, config)
    render(outcomes, changes.summary, args.format, sys.stdout)
    return exit_code(outcomes)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv, dict(os.environ))
    except GuardError as error:
        sys.stdout.flush()
        message = f"migration-guard: error: {error.message}\n"
        if error.hint:
            message += f"  hint: {error.hint}\n"
        sys.stderr.write(message)
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("migration-guard: interrupted\n")
        return 130
