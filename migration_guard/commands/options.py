"""Command-line options several commands share: what to check, the config, the output format.

argparse is imported where a parser is built, not by this module: a command line kept whole
(see :mod:`migration_guard.commands.replay`) runs its command without it.
"""

from __future__ import annotations

from migration_guard.report import FORMATS
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from typing import TypeAlias

FORMAT_HELP = ("output format: text (default); github (annotations, plus a Markdown job "
               "summary appended to $GITHUB_STEP_SUMMARY); json, sarif, junit, gitlab (GitLab "
               "Code Quality) (one document on stdout)")
DATABASE_URL_HELP = ("server to create throwaway databases on (default "
                     "MIGRATION_GUARD_DATABASE_URL, else an embedded PostgreSQL)")
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_command(commands: Commands, name: str, summary: str) -> argparse.ArgumentParser:
    """A subcommand's parser, with its one-line summary as help and description."""
    from migration_guard.commands.helpformat import HelpFormatter

    return commands.add_parser(name, help=summary, description=summary,
                               formatter_class=HelpFormatter)


def add_range_options(parser: argparse.ArgumentParser) -> None:
    """What to check (the index, a range, the whole tree) against which base, and how."""
    import argparse

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
