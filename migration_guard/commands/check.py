"""``migration-guard check``: every enabled check over the staged change, a range or the
whole tree (what CI runs); ``--fast`` is the combined ``migration-guard`` hook."""

from __future__ import annotations

from collections.abc import Sequence

from migration_guard.commands.options import (
    DATABASE_URL_HELP,
    Commands,
    add_command,
    add_range_options,
)
from migration_guard.errors import GuardError
from migration_guard.report import DOCUMENT_FORMATS
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

SUMMARY = "run every enabled check (what CI runs)"
FAST_CHECKS = ("required", "immutable", "linear", "lint")


def add_parser(commands: Commands) -> None:
    parser = add_command(commands, "check", SUMMARY)
    add_range_options(parser)
    parser.add_argument("--fast", action="store_true",
                        help="only the fast checks (the combined `migration-guard` hook)")
    parser.add_argument("--checks", help="comma-separated checks to run (overrides the config)")
    parser.add_argument("--project", action="append", metavar="NAME", help="only this "
                        "project (its name or migrations directory); repeat for several")
    parser.add_argument("--database-url", help=DATABASE_URL_HELP)
    parser.add_argument("--report-file", action="append", type=_report_file, default=[],
                        metavar="FORMAT=FILE", help="also write the findings as FORMAT "
                        f"({', '.join(DOCUMENT_FORMATS)}) to FILE; repeat for several "
                        "(GitLab: gitlab=gl-code-quality-report.json junit=junit.xml)")


def _report_file(value: str) -> tuple[str, str]:
    import argparse  # the parser is being built: argparse is loaded

    fmt, equals, path = value.partition("=")
    if not equals or fmt not in DOCUMENT_FORMATS or not path:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not FORMAT=FILE with FORMAT one of {', '.join(DOCUMENT_FORMATS)}")
    return fmt, path


def run(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from migration_guard.commands.scope import resolve, run_in

    scope = resolve(args, environ)
    if args.checks:
        names: Sequence[str] = [c.strip() for c in args.checks.split(",") if c.strip()]
        _refuse_unknown(names)
    else:  # the config's checks, read from the change being checked
        names = [c for c in scope.config.checks if not args.fast or c in FAST_CHECKS]
    return run_in(scope, names, args, environ, out)


def _refuse_unknown(names: Sequence[str]) -> None:
    from migration_guard.checks import get
    from migration_guard.config import ALL_CHECKS

    unknown = []
    for name in names:
        try:
            get(name)
        except KeyError:
            unknown.append(name)
    if unknown:
        raise GuardError(f"check not available yet: {', '.join(unknown)}",
                         f"run any of: {', '.join(ALL_CHECKS)}")
