"""The ``migration-guard`` command: build the parser, dispatch to one module of
:mod:`migration_guard.commands`, turn a :class:`GuardError` into exit 2.

Each command module has ``SUMMARY``, ``add_parser(commands)`` and
``run(args, environ, out) -> int``. Environment variables are read by the commands from
the ``environ`` given here: ``PRE_COMMIT_FROM_REF`` / ``PRE_COMMIT_TO_REF`` (range mode
under ``pre-commit run --from-ref``, and on pre-push), ``GIT_INDEX_FILE`` (``git commit
-a`` stages into a temporary index), ``MIGRATION_GUARD_DATABASE_URL`` (a server for
throwaway databases; never ``DATABASE_URL``), ``GITHUB_ACTIONS`` and the GitHub event
variables, and ``GITHUB_STEP_SUMMARY``. Exit codes: 0 clean, 1 findings, 2 could not check.
"""

from __future__ import annotations

import gc
import os
import sys

from migration_guard.commands.replay import keep_arguments, kept_arguments, replayed
from migration_guard.errors import GuardError
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType, SimpleNamespace

#: Every command, in the order ``--help`` lists them; each is ``commands/<name>.py``.
COMMANDS = ("required", "immutable", "linear", "lint", "apply", "check", "status", "drift",
            "history", "init", "new", "projects", "demo")


def _module(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"migration_guard.commands.{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line. Given the ``command`` about to run, only that command's parser is
    built and its module imported: a hook does not pay for the others' (~10 ms)."""
    import argparse

    from migration_guard import __version__
    from migration_guard.commands.helpformat import HelpFormatter

    parser = argparse.ArgumentParser(
        prog="migration-guard", formatter_class=HelpFormatter,
        description="Guard database schema migrations in git: pre-commit hooks and CI checks.",
    )
    parser.add_argument("--version", action="version", version=f"migration-guard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in (command,) if command in COMMANDS else COMMANDS:
        _module(name).add_parser(commands)
    return parser


def run(argv: Sequence[str] | None, environ: dict[str, str]) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), or take what argparse read from the same
    line before, and run the command it names."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args: argparse.Namespace | SimpleNamespace | None = kept_arguments(argv)
    if args is None:
        args = build_parser(argv[0] if argv else None).parse_args(argv)
        keep_arguments(argv, args)
    result: int = _module(args.command).run(args, environ, sys.stdout)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    # A hook allocates tens of thousands of objects and no cycles worth collecting: the
    # collector's passes over them, and over everything again at exit, cost ~5 ms. Runs
    # that allocate much more (apply, lint) still collect.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, *thresholds[1:])
    try:
        given = sys.argv[1:] if argv is None else list(argv)
        code = replayed(given, sys.stdout)
        if code is None:
            code = run(given, dict(os.environ))
        sys.stdout.flush()  # a reader that went away shows here, not at the interpreter's exit
        return code
    except GuardError as error:
        _report_error(error, sys.argv[1:] if argv is None else list(argv))
        return 2
    except BrokenPipeError:
        if not _stdout_closed():
            raise
        return _quiet_after_closed_stdout()
    except KeyboardInterrupt:
        sys.stderr.write("migration-guard: interrupted\n")
        return 130
    finally:
        gc.set_threshold(*thresholds)
        if argv is None:  # the program's own run: spare the exit its collections too
            gc.freeze()


def _report_error(error: GuardError, argv: list[str]) -> None:
    """The error on stderr; with ``--format github`` also as an annotation on stdout, so a
    step that could not check (exit 2) says why on the run's page, not only in its log."""
    message = f"migration-guard: error: {error.message}\n"
    if error.hint:
        message += f"  hint: {error.hint}\n"
    try:
        if _requested_format(argv) == "github":
            from migration_guard.report.github import escape_data

            sys.stdout.write(f"::error title=migration-guard could not check::"
                             f"{escape_data(error.with_hint())}\n")
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_after_closed_stdout()
    sys.stderr.write(message)


def _requested_format(argv: list[str]) -> str | None:
    """``--format`` as given, read apart from the full parser: the error may come from it."""
    import argparse

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--format")
    try:
        known, _rest = parser.parse_known_args(argv)
    except SystemExit:
        return None
    value: str | None = known.format
    return value


def _stdout_closed() -> bool:
    """Whether stdout is a pipe nobody reads any more (``migration-guard ... | head``), as
    opposed to some other pipe of the run breaking (which is an error, not an early end)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _fd, events in poller.poll(0))
    except (OSError, ValueError):
        return False


def _quiet_after_closed_stdout() -> int:
    """End as a program killed by SIGPIPE does (the shell's status 141), without a
    traceback: what is left of stdout goes nowhere, also at the interpreter's exit."""
    import signal

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE
