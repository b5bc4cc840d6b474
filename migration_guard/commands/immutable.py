"""``migration-guard immutable``, the ``migrations-immutable`` hook.

No migration present on the base is edited, deleted, renamed or mode-changed.
"""

from __future__ import annotations

from migration_guard.commands.options import Commands, add_command, add_range_options
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

SUMMARY = "no migration present on the base is edited, deleted, renamed or mode-changed"


def add_parser(commands: Commands) -> None:
    add_range_options(add_command(commands, "immutable", SUMMARY))


def run(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from migration_guard.commands.scope import run_checks

    return run_checks(["immutable"], args, environ, out)
