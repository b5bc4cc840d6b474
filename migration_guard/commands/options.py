"""Command-line options several commands share: what to check, the config, the output format."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TypeAlias

from migration_guard.report import FORMATS

FORMAT_HELP = ("output format: text (default); github (annotations, plus a Markdown job "
               "summary appended to $GITHUB_STEP_SUMMARY); json, sarif, junit, gitlab (GitLab "
               "Code Quality) (one document on stdout)")
DATABASE_URL_HELP = ("server to create throwaway databases on (default "
                     "MIGRATION_GUARD_DATABASE_URL, else an embedded PostgreSQL)")
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


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


def add_command(commands: Commands, name: str, summary: str) -> argparse.ArgumentParser:
    """A subcommand's parser, with its one-line summary as help and description."""
    return commands.add_parser(name, help=summary, description=summary,
                               formatter_class=HelpFormatter)


def add_range_options(parser: argparse.ArgumentParser) -> None:
    """What to check (the index, a range, the whole tree) against which base, and how."""
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
    add_output_options(parser)


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--config``, ``--format`` and ``-C``."""
    parser.add_argument("--config", help="config file (default .migration-guard.yaml or "
                        "[tool.migration-guard] in pyproject.toml)")
    parser.add_argument("--format", choices=FORMATS, default="text", help=FORMAT_HELP)
    parser.add_argument("-C", dest="directory", default=".", help="run as if started in this "
                        "directory")


def server_url(args: argparse.Namespace, environ: dict[str, str]) -> str | None:
    """The server for throwaway databases; ``DATABASE_URL`` is never read (real data)."""
    return getattr(args, "database_url", None) or environ.get(
        "MIGRATION_GUARD_DATABASE_URL") or None


def summary_path(args: argparse.Namespace, environ: dict[str, str]) -> str | None:
    """Where ``--format github`` appends its Markdown job summary (GitHub Actions sets it)."""
    if args.format != "github":
        return None
    return environ.get("GITHUB_STEP_SUMMARY") or None
