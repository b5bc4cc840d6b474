"""argparse's help formatter as this CLI uses it; imported only while a parser is built, so
that a command line kept whole (see :mod:`migration_guard.commands.replay`) imports no
argparse."""

from __future__ import annotations

import argparse
import os
import sys


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


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help formatter, given the width: argparse makes one for every argument it
    adds, and left to itself each imports shutil (bz2, lzma, ...) to ask: ~1.5 ms a hook."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)
