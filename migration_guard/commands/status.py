"""``migration-guard status``: which migrations a database has applied and which are pending,
read from the runner's own bookkeeping table in a read-only session."""

from __future__ import annotations

from typing import TextIO

from migration_guard.commands.options import Commands, add_command, add_output_options
from migration_guard.errors import GuardError
from migration_guard.report import DOCUMENT_FORMATS
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

SUMMARY = "applied vs pending migrations on a database (read-only)"


def add_parser(commands: Commands) -> None:
    parser = add_command(commands, "status", SUMMARY)
    parser.add_argument("--database-url", required=True, help="the database to inspect")
    add_output_options(parser)
    parser.set_defaults(from_ref=None, to_ref=None, base=None, all=True)


def run(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    if args.format in DOCUMENT_FORMATS:
        raise GuardError(f"status has no {args.format} output: it lists migrations and "
                         "checks nothing", "drop --format")
    from migration_guard.apply.live import status
    from migration_guard.commands.scope import resolve

    scope = resolve(args, environ)
    return status(scope.changes, scope.projects, args.database_url, out)
