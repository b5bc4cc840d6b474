"""``migration-guard drift --against URL``: compare a live database, read-only, with the
schema the migrations produce on a throwaway database."""

from __future__ import annotations

from typing import TextIO

from migration_guard.commands.options import (
    DATABASE_URL_HELP,
    Commands,
    add_command,
    add_output_options,
    server_url,
    summary_path,
)
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

SUMMARY = "compare a live database (read-only) with the schema the migrations produce"


def add_parser(commands: Commands) -> None:
    parser = add_command(commands, "drift", SUMMARY)
    parser.add_argument("--against", required=True, help="the live database to compare")
    parser.add_argument("--database-url", help=DATABASE_URL_HELP)
    add_output_options(parser)
    parser.set_defaults(from_ref=None, to_ref=None, base=None, all=True)


def run(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from migration_guard.apply.live import drift_against
    from migration_guard.commands.scope import resolve
    from migration_guard.db.redact import redact_url
    from migration_guard.report import exit_code, render

    scope = resolve(args, environ)
    outcomes = drift_against(scope.changes, scope.projects, scope.config, args.against,
                             server_url(args, environ))
    render(outcomes, f"drift of {redact_url(args.against)} against the migrations",
           args.format, out, summary_path=summary_path(args, environ))
    return exit_code(outcomes)
