"""``migration-guard lint``, the ``migrations-lint`` hook: the SQL of new or modified
migrations is safe to run in production.

With file names, ``lint FILE...`` lints those files as they are on disk, outside any change
set (for editors and ad-hoc checks), with the same config as every other command. Files
are read as bytes (non-UTF-8 content is a finding, not a crash); a file that cannot be
read is a GuardError (exit 2).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

from migration_guard.commands.options import Commands, add_command, add_range_options
from migration_guard.errors import GuardError
from migration_guard.findings import Outcome
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from migration_guard.commands.replay import LintRun, Reads
    from migration_guard.config import Config
    from migration_guard.lint import LintOptions

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
    from migration_guard.commands.replay import Reads, keep
    from migration_guard.report import exit_code, render

    cwd = os.path.abspath(args.directory)
    run = kept_run(args, cwd)
    reads = Reads()
    outcomes, config = lint_files(args.files, cwd, args.config, read=reads,
                                  root=run.root if run is not None else None)
    buffer = io.StringIO()
    render(outcomes, f"linting {len(args.files)} file(s) as named", args.format,
           buffer if run is not None else out, summary_path=summary_path(args, environ),
           fail_on=config.fail_on)
    status = exit_code(outcomes, config.fail_on)
    if run is not None:
        output = buffer.getvalue()
        out.write(output)
        keep(run, reads, status, output)
    return status


def kept_run(args: argparse.Namespace, cwd: str) -> LintRun | None:
    """The run to keep for a replay (see :mod:`migration_guard.commands.replay`): one
    asking for nothing but files, a format whose whole effect is stdout, and a config."""
    from migration_guard.commands.replay import KEPT_FORMATS, LintRun

    if args.format not in KEPT_FORMATS or args.all or args.fetch is not None \
            or any((args.from_ref, args.to_ref, args.base)):
        return None
    return LintRun(cwd, args.format, args.config, args.files)


def lint_files(files: Sequence[str], cwd: str, config_path: str | None = None, *,
               read: Reads | None = None, root: str | None = None
               ) -> tuple[list[Outcome], Config]:
    """The findings of ``files`` (relative to ``cwd``) and the config they were linted with:
    the repository's (the ``lint`` section, and a project's own when every file lies in its
    migrations directory), read from the working tree since there is no snapshot here, or
    ``--config`` (any path, inside the repository or not). Every file is read through
    ``read`` (a new :class:`Reads` when not given), which notes what it read; ``root`` is
    the repository's top (found from ``cwd`` when not given)."""
    from migration_guard.cache import cache_dir
    from migration_guard.commands.replay import Reads, repository_root
    from migration_guard.config import load_config
    from migration_guard.lint.batch import UnreadableFile, lint_in_order
    from migration_guard.lint.result_cache import ResultCache

    reads = read if read is not None else Reads()
    root = root if root is not None else repository_root(cwd)
    explicit = os.path.join(cwd, config_path) if config_path is not None else None
    config = load_config(lambda name: read_optional(os.path.join(root, name), reads),
                         explicit)
    options = lint_options_for(config, [os.path.relpath(os.path.join(cwd, f), root)
                                        for f in files])
    try:
        results = lint_in_order(files, lambda name: reads.read(os.path.join(cwd, name)),
                                options, cache=ResultCache(cache_dir(), options))
    except UnreadableFile as error:
        raise GuardError(f"cannot read {error.name}: {error.strerror}",
                         "check the file name") from None
    findings = [f._replace(check="lint", project="files")
                for result in results for f in result.findings]
    return [Outcome("lint", "files", findings, [])], config


def read_optional(path: str, reads: Reads) -> bytes | None:
    """A file's bytes, or ``None`` if it does not exist."""
    try:
        return reads.read_optional(path)
    except OSError as error:
        raise GuardError(f"cannot read {path}: {error.strerror}",
                         "check the file's permissions") from None


def lint_options_for(config: Config, paths: Sequence[str]) -> LintOptions:
    """The top-level ``lint`` section, overridden by the section of the configured project
    whose migrations directory holds every one of ``paths`` (repository-relative); the
    server major is ``postgres.version``, as for the staged change."""
    from migration_guard.lint.registry import options_from

    for project in config.projects or ():
        prefix = f"{project.migrations}/" if project.migrations else None
        if prefix and all(p.replace(os.sep, "/").startswith(prefix) for p in paths):
            return options_from(config, project.lint)
    return options_from(config)
