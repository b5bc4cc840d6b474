"""The ``migration-guard`` command: parse arguments, read the environment, run, report.

Environment variables are read here and nowhere else: ``PRE_COMMIT_FROM_REF`` /
``PRE_COMMIT_TO_REF`` (range mode under ``pre-commit run --from-ref``, and on pre-push),
``GIT_INDEX_FILE`` (``git commit -a`` stages into a temporary index) and
``MIGRATION_GUARD_DATABASE_URL`` (a server for throwaway databases; never ``DATABASE_URL``)
and ``GITHUB_STEP_SUMMARY`` (where ``--format github`` appends its job summary).
Exit codes: 0 clean, 1 findings, 2 could not check.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence

from migration_guard.errors import GuardError
from migration_guard.report import DOCUMENT_FORMATS, FORMATS

FORMAT_HELP = ("output format: text (default); github (annotations, plus a Markdown job "
               "summary appended to $GITHUB_STEP_SUMMARY); json, sarif, junit (one document "
               "on stdout)")
FAST_COMMANDS = {
    "required": "a schema change comes with a new migration",
    "immutable": "no migration present on the base is edited, deleted, renamed or mode-changed",
    "linear": "new migrations are well named and sort after the base's newest",
}


def _terminal_columns() -> int:
    """What ``shutil.get_terminal_size().columns`` says: $COLUMNS, the terminal, or 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0 and sys.__stdout__ is not None:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help formatter, given the width: argparse makes one for every argument it
    adds, and left to itself each imports shutil (bz2, lzma, ...) to ask: ~1.5 ms a hook."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)


def _add_range_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("what to check (default: the staged change)")
    group.add_argument("--from-ref", help="check the range FROM_REF..TO_REF instead of the index")
    group.add_argument("--to-ref", help="end of the range (default HEAD)")
    group.add_argument("--base", help="the branch whose migrations count as merged "
                       "(default: --from-ref, else origin/HEAD, origin/main, ..., main, master)")
    group.add_argument("--all", action="store_true",
                       help="check every migration as if all were new (first adoption)")
    group.add_argument("--fetch", action=argparse.BooleanOptionalAction, default=None,
                       help="fetch the commits a shallow clone lacks from origin (objects "
                       "only; default: on in GitHub Actions, where GITHUB_ACTIONS=true)")
    parser.add_argument("--config", help="config file (default .migration-guard.yaml or "
                        "[tool.migration-guard] in pyproject.toml)")
    parser.add_argument("--format", choices=FORMATS, default="text", help=FORMAT_HELP)
    parser.add_argument("-C", dest="directory", default=".", help="run as if started in this "
                        "directory")


LINT_SUMMARY = "the SQL of new or modified migrations is safe to run in production"
FAST_SET = ("required", "immutable", "linear", "lint")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line. Given the ``command`` about to run, a hook leaves out the other
    commands' parsers and modules, which would cost it ~10 ms (PERFORMANCE.md: <= 80 ms)."""
    parser = argparse.ArgumentParser(
        prog="migration-guard", formatter_class=_HelpFormatter,
        description="Guard database schema migrations in git: pre-commit hooks and CI checks.",
    )
    from migration_guard import __version__

    parser.add_argument("--version", action="version", version=f"migration-guard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # A hook builds its own command's parser only (argparse spends ~0.1 ms per argument):
    # the options of required, immutable, linear, lint and check belong above the return.
    only = command if command in (*FAST_SET, "check") else None
    for name, summary in FAST_COMMANDS.items():
        if only in (None, name):
            sub = commands.add_parser(name, help=summary, description=summary,
                                      formatter_class=_HelpFormatter)
            _add_range_options(sub)
    if only in (None, "lint"):
        lint = commands.add_parser("lint", help=LINT_SUMMARY, description=LINT_SUMMARY,
                                   formatter_class=_HelpFormatter)
        _add_range_options(lint)
        lint.add_argument("files", nargs="*", metavar="FILE",
                          help="lint these SQL files as they are on disk instead of the change")
    if only in (None, "check"):
        check = commands.add_parser("check", help="run every enabled check (what CI runs)",
                                    formatter_class=_HelpFormatter)
        _add_range_options(check)
        check.add_argument("--fast", action="store_true",
                           help="only the fast checks (the combined `migration-guard` hook)")
        check.add_argument("--checks", help="comma-separated checks to run (overrides the "
                           "config)")
        check.add_argument("--project", action="append", metavar="NAME", help="only this "
                           "project (its name or migrations directory); repeat for several")
    if only is not None:
        return parser
    _add_database_commands(commands)
    from migration_guard.commands import demo, history

    history.add_parser(commands)
    demo.add_parser(commands)
    from migration_guard.commands import init, new, projects

    init.add_parser(commands)
    new.add_parser(commands)
    projects.add_parser(commands)
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
        sub.add_argument("--format", choices=FORMATS, default="text", help=FORMAT_HELP)
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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    if args.command == "history":
        from migration_guard.commands import history
        from migration_guard.gitrepo import Git

        return history.run(args, Git.discover(os.path.abspath(args.directory), environ),
                           sys.stdout)
    if args.command == "demo":
        from migration_guard.commands import demo

        return demo.run(args, environ, sys.stdout)
    if args.command in SETUP_COMMANDS:
        return _run_setup_command(args, environ)
    _range_from_env(args, environ)
    if args.command == "status" and args.format in DOCUMENT_FORMATS:
        raise GuardError(f"status has no {args.format} output: it lists migrations and "
                         "checks nothing", "drop --format")
    if args.command == "lint" and args.files:
        # Files as named need no git, config or project layer: none of them is imported.
        from migration_guard.lint_files import lint_files
        from migration_guard.report import exit_code, render

        outcomes = lint_files(args.files, os.path.abspath(args.directory))
        render(outcomes, f"linting {len(args.files)} file(s) as named", args.format, sys.stdout,
               summary_path=_summary_path(args, environ))
        return exit_code(outcomes)
    from migration_guard import changeset as cs
    from migration_guard.checks import run_checks
    from migration_guard.config import ALL_CHECKS, load_config
    from migration_guard.gitrepo import Git
    from migration_guard.projects import from_config
    from migration_guard.report import exit_code, render
    from migration_guard.shallow import Shallow

    git = Git.discover(os.path.abspath(args.directory), environ)
    fetch = getattr(args, "fetch", None)
    shallow = Shallow(git, fetch=environ.get("GITHUB_ACTIONS") == "true" if fetch is None
                      else fetch)
    ci = None
    if not args.all and args.from_ref is None and args.base is None \
            and environ.get("GITHUB_ACTIONS") == "true":
        from migration_guard.ci_base import github_base

        ci = github_base(git, environ, shallow)
    if ci is not None:
        changes = cs.ranged(git, ci.ref, "HEAD", base_ref=ci.ref, base_origin=ci.origin,
                            to_origin=ci.head_origin)
        config = load_config(changes.candidate.read, args.config)
    elif args.all:
        changes = cs.whole_tree(git, args.to_ref)
        config = load_config(changes.candidate.read, args.config)
    elif args.from_ref is not None:
        shallow.prepare_range(args.from_ref, args.to_ref or "HEAD", args.base)
        changes = cs.ranged(git, args.from_ref, args.to_ref or "HEAD",
                            base_ref=args.base, base_origin="--base")
        config = load_config(changes.candidate.read, args.config)
    else:
        index = cs.Snapshot(git, None, "the index (staged changes)")
        config = load_config(index.read, args.config)
        base_ref, origin = (args.base, "--base") if args.base else (
            config.base, f"base in {config.source}")
        changes = cs.staged(git, index, base_ref=base_ref, base_origin=origin)
    projects = from_config(config, changes.candidate.paths, changes.candidate.read,
                           changes.candidate.read_many)
    if getattr(args, "project", None):
        from migration_guard.commands.projects import select

        chosen = {p.name for name in args.project for p in select(projects, name)}
        projects = [p for p in projects if p.name in chosen]
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
    outcomes, failure = run_checks(names, changes, projects, config)
    render(outcomes, changes.summary, args.format, sys.stdout,
           summary_path=_summary_path(args, environ))
    if failure is not None:
        raise failure  # after the findings of the checks that ran: exit 2
    return exit_code(outcomes)


SETUP_COMMANDS = ("init", "new", "projects")  # no change set: dispatched before any


def _run_setup_command(args: argparse.Namespace, environ: dict[str, str]) -> int:
    from migration_guard.commands import init, new, projects
    from migration_guard.gitrepo import Git

    git = Git.discover(os.path.abspath(args.directory), environ)
    runner = {"init": init.run, "new": new.run, "projects": projects.run}[args.command]
    return runner(args, git, sys.stdout)


def _summary_path(args: argparse.Namespace, environ: dict[str, str]) -> str | None:
    """Where ``--format github`` appends its Markdown job summary (GitHub Actions sets it)."""
    if args.format != "github":
        return None
    return environ.get("GITHUB_STEP_SUMMARY") or None


def _server_url(args: argparse.Namespace, environ: dict[str, str]) -> str | None:
    """The server for throwaway databases; ``DATABASE_URL`` is never read (real data)."""
    if args.command == "status":
        return None
    return getattr(args, "database_url", None) or environ.get(
        "MIGRATION_GUARD_DATABASE_URL") or None


def main(argv: Sequence[str] | None = None) -> int:
    # A hook allocates tens of thousands of objects and no cycles worth collecting: the
    # collector's passes over them, and over everything again at exit, cost ~5 ms. Runs
    # that allocate much more (apply, lint) still collect.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, *thresholds[1:])
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
    finally:
        gc.set_threshold(*thresholds)
        if argv is None:  # the program's own run: spare the exit its collections too
            gc.freeze()
