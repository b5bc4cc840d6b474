"""``migration-guard required``, the ``migrations-required`` hook.

A schema change comes with a new migration.
"""

from __future__ import annotations

from migration_guard.commands.options import (
    DATABASE_URL_HELP,
    Commands,
    add_command,
    add_range_options,
)
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

SUMMARY = "a schema change comes with a new migration"


def add_parser(commands: Commands) -> None:
    parser = add_command(commands, "required", SUMMARY)
    add_range_options(parser)
    parser.add_argument("--prove", action="store_true", help="judge model changes that the "
                        "file rule would fail on a throwaway database: autogenerate and a "
                        "catalog compare against the migrations")
    parser.add_argument("--database-url", help=DATABASE_URL_HELP)


def run(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from migration_guard.commands.scope import run_checks

    return run_checks(["required"], args, environ, out)
