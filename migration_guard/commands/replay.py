"""A ``lint FILE...`` run kept whole: run again on the same files, config and code, it
prints what it printed before and exits as it did, without importing argparse, the config
loader or the linter.

The kept run is looked up by what was asked (the directory, the format, ``--config``, the
files, this package's and its parsers' code) and holds every file the run read, in order,
with a digest of what they held (a config file that did not exist counts as read, as
missing). A replay reads those files again and prints only when the digest is the same; any
difference, or anything it cannot read, runs the command in full, which keeps it anew.

Only runs whose whole effect is stdout and the exit status are kept, so not ``--format
github`` (it also appends to ``$GITHUB_STEP_SUMMARY``), and only command lines this module
reads exactly as argparse does (``lint`` with file names and at most ``--format`` and
``--config``); any other goes to the parser.

Measured with ``bench/bench_lint.py``: a warm 100-file run went from ~35 ms to ~20 ms, of
which ~15 ms is the interpreter's own start.

Every command line argparse read is kept too (:func:`kept_arguments`), by the line and this
package's code: a hook's next run takes its options from there and imports no argparse,
which with building the parser was ~18 M of a hook's ~165 M instructions (callgrind; a
bare ``python -c pass`` is 38 M).
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from types import SimpleNamespace

from migration_guard.cache import (
    Pack,
    cache_dir,
    code_stamp,
    key_of,
    package_folders,
    read_bytes,
)
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import TextIO

#: Bump when what a kept run holds changes.
FORMAT = "lint-run-1"
#: Runs kept per cache folder: the few file sets a developer lints over and over.
KEEP = 128
#: Larger output is not kept: a pack file is read whole, and 8 runs share one.
MAX_OUTPUT_CHARS = 1 << 20
#: The formats whose whole effect is stdout.
KEPT_FORMATS = ("text", "json", "sarif", "junit", "gitlab")
#: Bump when what a kept command line holds changes.
ARGUMENTS_FORMAT = "arguments-1"
#: Command lines kept per cache folder: each hook's, and a developer's few.
ARGUMENTS_KEEP = 256
#: Longer command lines are parsed each time: argparse is a small part of such a run.
MAX_ARGUMENTS_CHARS = 4096
#: What a kept option may hold: what argparse makes of this CLI's options.
_PLAIN = (str, int, bool, type(None))


class LintRun:
    """What a ``lint FILE...`` run was asked: its directory (absolute), its format, its
    ``--config`` as given, its files as given; and the repository it ran in (the nearest
    directory above holding ``.git``: a ``git init`` above changes which config is read)."""

    __slots__ = ("config", "directory", "files", "fmt", "root")

    def __init__(self, directory: str, fmt: str, config: str | None,
                 files: Sequence[str]) -> None:
        self.directory = directory
        self.fmt = fmt
        self.config = config
        self.files = tuple(files)
        self.root = repository_root(directory)

    def key(self) -> str:
        config = ("--config", self.config) if self.config is not None else ("no --config",)
        return key_of((FORMAT, _code(), self.directory, self.root, self.fmt, *config,
                       *self.files))


class Reads:
    """The files a run read, in order, with what each held (``None``: it did not exist)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes | None]] = []

    def read(self, path: str) -> bytes:
        """``path``'s bytes, noted; an error is raised as :func:`os.open` raises it."""
        data = read_bytes(path)
        self.seen.append((path, data))
        return data

    def read_optional(self, path: str) -> bytes | None:
        """``path``'s bytes, or ``None`` if it does not exist; noted either way."""
        try:
            return self.read(path)
        except FileNotFoundError:
            self.seen.append((path, None))
            return None

    def digest(self) -> str:
        parts: list[str | bytes] = []
        for path, data in self.seen:
            parts.extend((path, b"missing" if data is None else b"file:" + data))
        return key_of(parts)


def replayed(argv: Sequence[str], out: TextIO) -> int | None:
    """Print the kept output of the run ``argv`` asks for, in the current directory, and
    return its exit status, when one was kept and every file it read holds what it held;
    ``None`` otherwise."""
    if not argv or argv[0] != "lint":
        return None
    try:
        run = parse(argv, os.getcwd())
    except OSError:  # the current directory is gone: the parser's run says so
        return None
    if run is None:
        return None
    kept = _pack().get(run.key())
    try:
        paths, digest, status, output = kept
        reads = Reads()
        for path in paths:
            reads.read_optional(path)
    except (TypeError, ValueError, OSError):
        return None
    if reads.digest() != digest or not isinstance(output, str) or status not in (0, 1):
        return None
    out.write(output)
    return int(status)


def keep(run: LintRun, reads: Reads, status: int, output: str) -> None:
    """Keep a finished run (best effort, as every cache here): what it read, its output, its
    exit status. Runs that could not check (exit 2) are not kept."""
    if status not in (0, 1) or len(output) > MAX_OUTPUT_CHARS:
        return
    pack = _pack()
    pack.put(run.key(), (tuple(path for path, _data in reads.seen), reads.digest(), status,
                         output))
    pack.save()


def parse(argv: Sequence[str], cwd: str) -> LintRun | None:
    """The run of ``argv`` when it is ``lint``, file names, and at most ``--format`` and
    ``--config`` once each (``--name value`` or ``--name=value``), before or after the files
    but not among them: the lines argparse reads the same way. ``None`` for any other."""
    if not argv or argv[0] != "lint":
        return None
    options: dict[str, str] = {}
    files: list[str] = []
    after_files = False
    tokens = iter(argv[1:])
    for token in tokens:
        if not token.startswith("-"):
            if after_files or not token:
                return None
            files.append(token)
            continue
        after_files = bool(files)
        name, equals, value = token.partition("=")
        if not equals:
            value = next(tokens, "")
        if name not in ("--format", "--config") or name in options or not value \
                or value.startswith("-"):
            return None
        options[name] = value
    fmt = options.get("--format", "text")
    if not files or fmt not in KEPT_FORMATS:
        return None
    return LintRun(os.path.abspath(cwd), fmt, options.get("--config"), files)


def repository_root(start: str) -> str:
    """The nearest directory at or above ``start`` holding ``.git``; ``start`` if none."""
    directory = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return os.path.abspath(start)
        directory = parent


def kept_arguments(argv: Sequence[str]) -> SimpleNamespace | None:
    """The options argparse read from ``argv`` before, with this package's code and this
    interpreter (its attributes are the namespace's); ``None`` if there are none, or if what
    is kept names another command than ``argv`` does."""
    key = _arguments_key(argv) if argv else None
    kept = _arguments_pack().get(key) if key is not None else None
    if not isinstance(kept, dict) or not all(isinstance(name, str) for name in kept) \
            or kept.get("command") != argv[0]:
        return None
    return SimpleNamespace(**kept)


def keep_arguments(argv: Sequence[str], args: argparse.Namespace) -> None:
    """Keep what argparse read from ``argv`` (best effort), when every option is plain."""
    key = _arguments_key(argv)
    options = dict(vars(args))
    if key is None or not all(_plain(value) for value in options.values()):
        return
    pack = _arguments_pack()
    pack.put(key, options)
    pack.save()


def _plain(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    return isinstance(value, _PLAIN)


def _arguments_key(argv: Sequence[str]) -> str | None:
    if sum(len(arg) for arg in argv) > MAX_ARGUMENTS_CHARS:
        return None
    return key_of((ARGUMENTS_FORMAT, _own_code(), *argv))


def _arguments_pack() -> Pack:
    return Pack(os.path.join(cache_dir(), "arguments"), keep=ARGUMENTS_KEEP)


def _pack() -> Pack:
    return Pack(os.path.join(cache_dir(), "lint-runs"), keep=KEEP)


@lru_cache(maxsize=1)
def _own_code() -> str:
    """This package's version, the interpreter's, and this package's files."""
    from migration_guard import __version__

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return key_of([__version__, sys.version, *_package_stamp(package, __version__)])


@lru_cache(maxsize=1)
def _code() -> str:
    """This package's code (:func:`_own_code`) and the files of pglast (the lint's parser)
    and PyYAML (the config's)."""
    parsers = [*package_folders("pglast"), *package_folders("yaml")]
    return key_of([_own_code(), *code_stamp(parsers)])


def _package_stamp(package: str, version: str) -> list[str]:
    """What this package's code is. An installed package (its ``RECORD`` beside it, which
    every install and reinstall writes anew) is that file's stat; a source tree or an
    editable install is the stat of each of its files, so an edit is seen (0.7-1.0 ms of
    a replay for its 141 files)."""
    record = os.path.join(os.path.dirname(package), f"migration_guard-{version}.dist-info",
                          "RECORD")
    try:
        stat = os.stat(record)
    except OSError:
        return code_stamp([package], recursive=True)
    return [f"{record}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"]
