"""Lint many files in order, each knowing the tables the earlier ones created; above a few
hundred files, forked children lint later slices of the list at the same time.

A child lints its slice as if it came first. The parent then walks the slice in order:
a file whose rules never asked about a table the skipped files created has exactly the
result it would have had in order; any other file is linted again with the true tables.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Sequence
from itertools import pairwise

from migration_guard.lint.engine import Analysis, LintResult, analyse_bytes
from migration_guard.lint.options import LintOptions

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
#: A slice's analyses, in order, and (index, strerror) of the file it could not read, if
#: any (the slice ends there).
_Payload = tuple[list[Analysis], tuple[int, str] | None]


def lint_in_order(names: Sequence[str], read: Reader, options: LintOptions) -> list[LintResult]:
    """Lint ``names`` (read with ``read``) as one change set, in order.

    Raises :class:`UnreadableFile` for the first file, in order, that ``read`` fails on.
    """
    # Parse trees hold no reference cycles: the collector would only rescan them (and, in
    # a forked child, copy every page it touches). Paused for the run, then restored.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _lint_in_order(names, read, options)
    finally:
        if collecting:
            gc.enable()


def _lint_in_order(names: Sequence[str], read: Reader, options: LintOptions
                   ) -> list[LintResult]:
    slices = _slices(len(names))
    children = [_Child.fork(names[start:end], read, options) for start, end in slices[1:]]
    results: list[LintResult] = []
    truth: set[str] = set()  # tables created by the files before the current one
    try:
        for number, (start, end) in enumerate(slices):
            part = names[start:end]
            payload = children[number - 1].collect() if number else None
            if payload is None:  # the first slice, or a child that failed
                payload = _lint_slice(part, read, options)
            analyses, error = payload
            results.extend(_reconcile(part, analyses, truth, read, options))
            if error is not None:
                raise UnreadableFile(part[error[0]], error[1])
    finally:
        for child in children:
            child.discard()
    return results


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


def _lint_slice(names: Sequence[str], read: Reader, options: LintOptions) -> _Payload:
    analyses: list[Analysis] = []
    created: set[str] = set()
    for index, name in enumerate(names):
        try:
            data = read(name)
        except OSError as error:
            return analyses, (index, error.strerror or str(error))
        analysis = analyse_bytes(data, name, options=options, created_tables=created)
        created |= analysis.created_tables
        analyses.append(analysis)
    return analyses, None


def _reconcile(names: Sequence[str], analyses: list[Analysis], truth: set[str], read: Reader,
               options: LintOptions) -> list[LintResult]:
    """Results of a slice linted without the tables earlier slices created: a file whose
    rules asked about one of those is linted again. ``truth`` is updated in place."""
    results: list[LintResult] = []
    known: set[str] = set()  # what the slice's own linting knew before each file
    for name, analysis in zip(names, analyses, strict=False):  # may stop at an error
        redo = any(table in truth and table not in known for table in analysis.asked)
        known |= analysis.created_tables
        if redo:
            try:
                data = read(name)
            except OSError as error:
                raise UnreadableFile(name, error.strerror or str(error)) from None
            analysis = analyse_bytes(data, name, options=options, created_tables=truth)
        truth |= analysis.created_tables
        results.append(LintResult(analysis.findings, analysis.created_tables))
    return results


class _Child:
    """A forked process linting one slice and sending its payload back through a pipe."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd
        self.done = False

    @classmethod
    def fork(cls, names: Sequence[str], read: Reader, options: LintOptions) -> _Child:
        import pickle

        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: lint, send, and leave without running any cleanup
            status = 0
            try:
                os.close(read_end)
                data = pickle.dumps(_lint_slice(names, read, options), pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(data)
            except BaseException:
                status = 1
            os._exit(status)
        os.close(write_end)
        return cls(pid, read_end)

    def collect(self) -> _Payload | None:
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
            payload: _Payload = pickle.loads(data)
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
