"""``migration-guard linear``, the ``migrations-linear`` hook.

New migrations are well named and sort after the base's newest.
"""

from __future__ import annotations

from migration_guard.commands.options import Commands, add_command, add_range_options
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

SUMMARY = "new migrations are well named and sort after the base's newest"


def add_parser(commands: Commands) -> None:
    add_range_options(add_command(commands, "linear", SUMMARY))


def run(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from migration_guard.commands.scope import run_checks

    return run_checks(["linear"], args, environ, out)
