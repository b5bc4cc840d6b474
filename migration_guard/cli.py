"""The ``migration-guard`` command: parse arguments, read the environment, run, report.

Environment variables are read here and nowhere else: ``PRE_COMMIT_FROM_REF`` /
``PRE_COMMIT_TO_REF`` (range mode under ``pre-commit run --from-ref``, and on pre-push),
``GIT_INDEX_FILE`` (``git commit -a`` stages into a temporary index) and
``MIGRATION_GUARD_DATABASE_URL`` (a server for throwaway databases; never ``DATABASE_URL``).
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


LINT_SUMMARY = "the SQL of new or modified migrations is safe to run in production"
FAST_SET = ("required", "immutable", "linear", "lint")


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
    lint = commands.add_parser("lint", help=LINT_SUMMARY, description=LINT_SUMMARY)
    _add_range_options(lint)
    lint.add_argument("files", nargs="*", metavar="FILE",
                      help="lint these SQL files as they are on disk instead of the change")
    check = commands.add_parser("check", help="run every enabled check (what CI runs)")
    _add_range_options(check)
    check.add_argument("--fast", action="store_true",
                       help="only the fast checks (the combined `migration-guard` hook)")
    check.add_argument("--checks", help="comma-separated checks to run (overrides the config)")
    _add_database_commands(commands)
    return parser


APPLY_SUMMARY = "migrations apply cleanly on a throwaway PostgreSQL (round trips, drift)"
DATABASE_URL_HELP = ("server to create throwaway databases on (default "
                     "MIGRATION_GUARD_DATABASE_URL, else an embedded PostgreSQL)")


def _add_database_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    apply = commands.add_parser("apply", help=APPLY_SUMMARY, description=APPLY_SUMMARY)
    _add_range_options(apply)
    apply.add_argument("--database-url", help=DATABASE_URL_HELP)
    status = commands.add_parser("status", help="applied vs pending migrations on a database "
                                 "(read-only)")
    status.add_argument("--database-url", required=True, help="the database to inspect")
    drift = commands.add_parser("drift", help="compare a live database (read-only) with the "
                                "schema the migrations produce")
    drift.add_argument("--against", required=True, help="the live database to compare")
    drift.add_argument("--database-url", help=DATABASE_URL_HELP)
    for sub in (status, drift):
        sub.add_argument("--config", help="config file")
        sub.add_argument("--format", choices=("text", "github"), default="text")
        sub.add_argument("-C", dest="directory", default=".", help="run in this directory")
        sub.set_defaults(from_ref=None, to_ref=None, base=None, all=True)


def _known_check(name: str) -> bool:
    from migration_guard.checks import get

    try:
        get(name)
    except KeyError:
        return False
    return True


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
    from migration_guard.config import ALL_CHECKS, load_config
    from migration_guard.gitrepo import Git
    from migration_guard.projects import from_config
    from migration_guard.report import exit_code, render

    if args.command == "lint" and args.files:
        from migration_guard.lint_files import lint_files

        outcomes = lint_files(args.files, os.path.abspath(args.directory))
        render(outcomes, f"linting {len(args.files)} file(s) as named", args.format, sys.stdout)
        return exit_code(outcomes)
    git = Git.discover(os.path.abspath(args.directory), environ)
    ci = None
    if not args.all and args.from_ref is None and args.base is None:
        from migration_guard.ci_base import github_base

        ci = github_base(git, environ)
    if ci is not None:
        changes = cs.ranged(git, ci.ref, "HEAD", base_ref=ci.ref, base_origin=ci.origin)
        config = load_config(changes.candidate.read, args.config)
    elif args.all:
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
    projects = from_config(config, list(changes.candidate.files), changes.candidate.read,
                           changes.candidate.read_many)
    if args.command in ("status", "drift"):
        from migration_guard.apply.commands import run_command

        return run_command(args.command, changes, projects, config, target=(
            args.database_url if args.command == "status" else args.against),
            server_url=_server_url(args, environ), fmt=args.format, out=sys.stdout)
    config = config._replace(database=config.database._replace(url=_server_url(args, environ)))
    if args.command in FAST_COMMANDS or args.command in ("apply", "lint"):
        names: Sequence[str] = [args.command]
    elif args.checks:
        names = [c.strip() for c in args.checks.split(",") if c.strip()]
    else:
        names = [c for c in config.checks if not args.fast or c in FAST_SET]
    unknown = [n for n in names if not _known_check(n)]
    if unknown:
        raise GuardError(f"check not available yet: {', '.join(unknown)}",
                         f"run any of: {', '.join(ALL_CHECKS)}")
    outcomes = run_checks(names, changes, projects, config)
    render(outcomes, changes.summary, args.format, sys.stdout)
    return exit_code(outcomes)


def _server_url(args: argparse.Namespace, environ: dict[str, str]) -> str | None:
    """The server for throwaway databases; ``DATABASE_URL`` is never read (real data)."""
    if args.command == "status":
        return None
    return getattr(args, "database_url", None) or environ.get(
        "MIGRATION_GUARD_DATABASE_URL") or None


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
