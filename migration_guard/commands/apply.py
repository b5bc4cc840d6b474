"""``migration-guard apply``, the ``migrations-apply`` hook: migrations apply cleanly on a
throwaway PostgreSQL (from empty, on the base's state with rows; round trips, drift)."""

from __future__ import annotations

from typing import TextIO

from migration_guard.commands.options import (
    DATABASE_URL_HELP,
    Commands,
    add_command,
    add_range_options,
)
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

SUMMARY = "migrations apply cleanly on a throwaway PostgreSQL (round trips, drift)"


def add_parser(commands: Commands) -> None:
    parser = add_command(commands, "apply", SUMMARY)
    add_range_options(parser)
    parser.add_argument("--database-url", help=DATABASE_URL_HELP)


def run(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from migration_guard.commands.scope import run_checks

    return run_checks(["apply"], args, environ, out)
