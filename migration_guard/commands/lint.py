"""``migration-guard lint``, the ``migrations-lint`` hook: the SQL of new or modified
migrations is safe to run in production.

With file names, ``lint FILE...`` lints those files as they are on disk, outside any change
set (for editors and ad-hoc checks). Files are read as bytes (non-UTF-8 content is a
finding, not a crash); a file that cannot be read is a GuardError (exit 2).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import TextIO

from migration_guard.commands.options import Commands, add_command, add_range_options
from migration_guard.errors import GuardError
from migration_guard.findings import Outcome

SUMMARY = "the SQL of new or modified migrations is safe to run in production"


def add_parser(commands: Commands) -> None:
    parser = add_command(commands, "lint", SUMMARY)
    add_range_options(parser)
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="lint these SQL files as they are on disk instead of the change")


def run(args: argparse.Namespace, environ: dict[str, str], out: TextIO) -> int:
    from migration_guard.commands.options import summary_path

    if not args.files:
        from migration_guard.commands.scope import run_checks

        return run_checks(["lint"], args, environ, out)
    # Files as named need no git, config or project layer: none of them is imported.
    from migration_guard.report import exit_code, render

    outcomes = lint_files(args.files, os.path.abspath(args.directory))
    render(outcomes, f"linting {len(args.files)} file(s) as named", args.format, out,
           summary_path=summary_path(args, environ))
    return exit_code(outcomes)


def lint_files(files: Sequence[str], cwd: str) -> list[Outcome]:
    """Lint ``files`` (relative to ``cwd``) with the default options, in the order given."""
    from migration_guard.lint import LintOptions
    from migration_guard.lint.batch import UnreadableFile, lint_in_order
    from migration_guard.lint.source import read_file

    try:
        results = lint_in_order(files, lambda name: read_file(os.path.join(cwd, name)),
                                LintOptions())
    except UnreadableFile as error:
        raise GuardError(f"cannot read {error.name}: {error.strerror}",
                         "check the file name") from None
    findings = [f._replace(check="lint", project="files")
                for result in results for f in result.findings]
    return [Outcome("lint", "files", findings, [])]
