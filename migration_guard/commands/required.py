"""``migration-guard required``, the ``migrations-required`` hook.

A schema change comes with a new migration.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from migration_guard.commands.options import Commands, add_command, add_range_options

SUMMARY = "a schema change comes with a new migration"


def add_parser(commands: Commands) -> None:
    add_range_options(add_command(commands, "required", SUMMARY))


def run(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from migration_guard.commands.scope import run_checks

    return run_checks(["required"], args, environ, out)
