"""Lint many files in order, each knowing the tables the earlier ones created; files linted
before come from the result cache, and above a few hundred files to lint, forked children
lint later slices of the list at the same time.

A cached result, and a child's slice, were linted as if they came first. The parent then
walks the list in order: a file whose rules never asked about a table that the files
skipped create has exactly the result it would have had in order; any other file is linted
again with the true tables.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Sequence
from itertools import pairwise

from migration_guard.lint.analysis import Analysis, LintResult
from migration_guard.lint.options import LintOptions
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    from migration_guard.lint.result_cache import ResultCache

#: Files per process below which a fork costs more than it saves (measured break-even:
#: ~300 files on two idle cores; a fork and its copied pages cost the child ~6 ms of CPU).
FILES_PER_WORKER = 200


class UnreadableFile(Exception):
    """A file of the list could not be read (the first one, in list order)."""

    def __init__(self, name: str, strerror: str) -> None:
        super().__init__(name, strerror)
        self.name = name
        self.strerror = strerror


Reader = Callable[[str], bytes]


def lint_in_order(names: Sequence[str], read: Reader, options: LintOptions, *,
                  cache: ResultCache | None = None) -> list[LintResult]:
    """Lint ``names`` (read with ``read``) as one change set, in order; with ``cache``, a
    file linted before is looked up instead, and what is linted now is kept.

    Raises :class:`UnreadableFile` for the first file, in order, that ``read`` fails on.
    """
    # Parse trees hold no reference cycles: the collector would only rescan them (and, in
    # a forked child, copy every page it touches). Paused for the run, then restored.
    collecting = gc.isenabled()
    gc.disable()
    try:
        contents = _read_all(names, read)
        keys = [cache.key(name, data) for name, data in zip(names, contents, strict=True)
                ] if cache is not None else None
        results = _lint_in_order(names, contents, options, cache, keys)
        if cache is not None:
            cache.save()
        return results
    finally:
        if collecting:
            gc.enable()


def _read_all(names: Sequence[str], read: Reader) -> list[bytes]:
    contents: list[bytes] = []
    for name in names:
        try:
            contents.append(read(name))
        except OSError as error:
            raise UnreadableFile(name, error.strerror or str(error)) from None
    return contents


def _lint_in_order(names: Sequence[str], contents: list[bytes], options: LintOptions,
                   cache: ResultCache | None, keys: list[str] | None) -> list[LintResult]:
    """Cached analyses where there are some; the other files linted in slices (the later
    ones in forked children), each slice as if it came first; then every file reconciled,
    in order, with the tables the files before it create."""
    found: list[Analysis | None] = [None] * len(names)
    if cache is not None and keys is not None:
        found = [cache.load(key) for key in keys]
    missing = [index for index, analysis in enumerate(found) if analysis is None]
    slices = [missing[start:end] for start, end in _slices(len(missing)) if end > start]
    slice_of = {index: number for number, part in enumerate(slices) for index in part}
    children = [_Child.fork(part, names, contents, options) for part in slices[1:]]
    try:
        for number, part in enumerate(slices):
            payload = children[number - 1].collect() if number else None
            for index, analysis in zip(part, payload or _lint_slice(part, names, contents,
                                                                      options), strict=True):
                found[index] = analysis
    finally:
        for child in children:
            child.discard()
    return _reconcile(names, contents, found, slice_of, options, cache, keys)


def _slices(count: int) -> list[tuple[int, int]]:
    workers = max(1, min(_cores(), count // FILES_PER_WORKER)) if _can_fork() else 1
    bounds = [count * i // workers for i in range(workers + 1)]
    return list(pairwise(bounds))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    """Forking is safe only in a single-threaded process on a POSIX system."""
    threading = sys.modules.get("threading")
    return hasattr(os, "fork") and (threading is None or threading.active_count() == 1)


def _lint_slice(part: Sequence[int], names: Sequence[str], contents: list[bytes],
                options: LintOptions) -> list[Analysis]:
    """The files at ``part``, in order, each knowing the tables the slice's earlier files
    create."""
    from migration_guard.lint.engine import analyse_bytes

    analyses: list[Analysis] = []
    created: set[str] = set()
    for index in part:
        analysis = analyse_bytes(contents[index], names[index], options=options,
                                 created_tables=created)
        created |= analysis.created_tables
        analyses.append(analysis)
    return analyses


def _reconcile(names: Sequence[str], contents: list[bytes], found: list[Analysis | None],
               slice_of: dict[int, int], options: LintOptions, cache: ResultCache | None,
               keys: list[str] | None) -> list[LintResult]:
    """Each file's result given the tables the files before it really create: one whose
    rules asked about a table its own run saw otherwise is linted again. A file linted now
    whose rules asked about no table created before it is what it would be alone: kept."""
    results: list[LintResult] = []
    truth: set[str] = set()  # tables created by the files before the current one
    known: dict[int, set[str]] = {}  # per slice: what its own run knew before each file
    for index, analysis in enumerate(found):
        assert analysis is not None
        number = slice_of.get(index)
        seen = known.setdefault(number, set()) if number is not None else set()
        final = analysis
        if any((table in truth) != (table in seen) for table in analysis.asked):
            from migration_guard.lint.engine import analyse_bytes

            final = analyse_bytes(contents[index], names[index], options=options,
                                  created_tables=truth)
        if number is not None:
            if cache is not None and keys and not analysis.asked & seen:
                cache.store(keys[index], analysis)
            seen |= analysis.created_tables
        truth |= final.created_tables
        results.append(LintResult(final.findings, final.created_tables))
    return results


class _Child:
    """A forked process linting one slice and sending its payload back through a pipe."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd
        self.done = False

    @classmethod
    def fork(cls, part: Sequence[int], names: Sequence[str], contents: list[bytes],
             options: LintOptions) -> _Child:
        import pickle

        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: lint, send, and leave without running any cleanup
            status = 0
            try:
                os.close(read_end)
                data = pickle.dumps(_lint_slice(part, names, contents, options),
                                    pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(data)
            except BaseException:
                status = 1
            os._exit(status)
        os.close(write_end)
        return cls(pid, read_end)

    def collect(self) -> list[Analysis] | None:
        """The child's payload, or ``None`` if it failed (the caller does its work)."""
        import pickle

        pipe = os.fdopen(self.fd, "rb")
        self.fd = -1  # closed with the file object
        with pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.done = True
        if status != 0:
            return None
        try:
            payload: list[Analysis] = pickle.loads(data)
        except Exception:
            return None
        return payload

    def discard(self) -> None:
        """Stop and reap the child if its payload was never collected."""
        if self.done:
            return
        import signal

        self.done = True
        os.kill(self.pid, signal.SIGKILL)
        if self.fd >= 0:
            os.close(self.fd)
        os.waitpid(self.pid, 0)
