"""Alembic in a child process, so that the whole-run limit can end it.

A revision's Python may never return (a loop, a sleep, a lock taken in Python): in this
process nothing could stop it short of the user's patience. So the run's one
:class:`~migration_guard.apply.alembic_run.Workspace` lives in a child forked once per
run (the libraries are already imported: forking costs milliseconds), and every alembic
command is one request over a pipe, answered with findings. The parent waits for an
answer no longer than the run has left; then it asks the child to stop (SIGTERM raises
in the Python being run, so the finding names the revision line that was running), and
kills it after a short grace. The parent then drops the throwaway databases and stops
the server as after any other finding.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import FrameType
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from migration_guard.apply.alembic_models import Models, ModelsInfo
from migration_guard.apply.alembic_run import DEFAULT_DRIVER, Handover, Workspace, handover
from migration_guard.apply.runner import run_timeout_finding
from migration_guard.apply.settings import Deadline
from migration_guard.db import catalog
from migration_guard.errors import GuardError
from migration_guard.findings import Finding
from migration_guard.git.changeset import Snapshot
from migration_guard.projects import Project

if TYPE_CHECKING:
    from migration_guard.apply.trace import PassObserver

GRACE_S = 2.0  # how long a child asked to stop may take to say where it was
_PR_SET_PDEATHSIG = 1
_FD_DIR = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"


class RunLimitReached(Exception):
    """Raised in the child when the parent's whole-run limit is up."""

    def __str__(self) -> str:
        return "the whole run's time limit was reached here"


class _Ended(Exception):
    """The child is gone: every later request is answered by this finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class AlembicChild:
    """The parent's side: each method is one alembic command run by the child."""

    def __init__(self, project: Project, snapshot: Snapshot, *, env_var: str,
                 deadline: Deadline, driver: str = DEFAULT_DRIVER,
                 bytecode_cache: Any = None) -> None:
        self.project = project
        self.deadline = deadline
        self.driver = driver
        self._ended: Finding | None = None
        self.ws = Workspace(project, snapshot, env_var=env_var, bytecode_cache=bytecode_cache)
        try:
            self.pid, self._conn = _fork(self.ws, driver)
        except BaseException:
            self.ws.close()
            raise
        self.returncode: int | None = None

    def __enter__(self) -> AlembicChild:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._alive() and self._ended is None:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(None)
            self._join(GRACE_S)
        self._kill()
        self._conn.close()
        self.ws.close()

    def config(self, conninfo: str, *, statement_timeout_s: float,
               lock_timeout_s: float) -> Handover:
        return handover(conninfo, statement_timeout_s=statement_timeout_s,
                        lock_timeout_s=lock_timeout_s, driver=self.driver)

    # -- commands ------------------------------------------------------------------------

    def upgrade(self, target: Handover, revision: str, *, code: str = "MG201",
                doing: str = "upgrade", trace: PassObserver | None = None,
                traced: frozenset[str] = frozenset()) -> list[Finding]:
        """``trace``: the trace's observer of this pass; the child observes the statements
        of the revision files ``traced`` names and hands back what it saw."""
        if trace is None:
            return self._findings("upgrade", target, revision, code, doing)
        spec = (trace.conninfo, trace.timezone, trace.statement_timeout_s, dict(trace.rows),
                traced)
        try:
            found, seen = self._call("upgrade_traced", target, revision, code, doing, spec)
        except _Ended as ended:
            return [ended.finding]
        trace.absorb(seen)
        result: list[Finding] = found
        return result

    def downgrade(self, target: Handover, revision: str, *, doing: str) -> list[Finding]:
        return self._findings("downgrade", target, revision, doing)

    def models(self, target: Handover) -> tuple[ModelsInfo, list[Finding]]:
        try:
            info, failures = self._call("models", target)
        except _Ended as ended:
            return ModelsInfo(False, None), [ended.finding]
        return info, failures

    def create_all(self, url: str) -> list[Finding]:
        return self._findings("create_all", url)

    def autogenerate(self, target: Handover) -> tuple[list[str], list[Finding]]:
        try:
            described, failures = self._call("autogenerate", target)
        except _Ended as ended:
            return [], [ended.finding]
        return described, failures

    def narrow(self, expected: catalog.Schema, actual: catalog.Schema
               ) -> tuple[catalog.Schema, catalog.Schema, list[Finding]]:
        try:
            narrowed_expected, narrowed_actual = self._call("narrow", expected, actual)
        except _Ended as ended:
            return {}, {}, [ended.finding]
        return narrowed_expected, narrowed_actual, []

    # -- the pipe --------------------------------------------------------------------------

    def _findings(self, op: str, *args: Any) -> list[Finding]:
        try:
            found: list[Finding] = self._call(op, *args)
        except _Ended as ended:
            return [ended.finding]
        return found

    def _call(self, op: str, *args: Any) -> Any:
        if self._ended is not None:
            raise _Ended(self._ended)
        try:
            self._conn.send((op, args))
        except (OSError, ValueError):
            raise self._lost() from None
        if not self._conn.poll(max(0.0, self.deadline.left())):
            raise _Ended(self._stop())
        return self._answer()

    def _answer(self) -> Any:
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError):
            raise self._lost() from None
        if status == "ok":
            return value
        if status == "guard":
            raise GuardError(*value)
        raise GuardError(f"alembic's process failed: {value}",
                         "report this with the traceback above")

    def _lost(self) -> GuardError:
        self._join(GRACE_S)
        code = self.returncode
        self._ended = run_timeout_finding(self.project.migrations, self.deadline)
        return GuardError(f"alembic's process ended unexpectedly (exit code {code}) while "
                          f"running {self.project.alembic_ini}",
                          "a revision or env.py ended the process (os._exit, a crash): run "
                          "`alembic upgrade heads` locally to see it")

    def _stop(self) -> Finding:
        """The limit is up: where the child was, then the child gone."""
        at = run_timeout_finding(self.project.migrations, self.deadline)
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGTERM)
        with contextlib.suppress(EOFError, OSError, GuardError):
            if self._conn.poll(GRACE_S):
                answer = self._answer()
                blamed = [f for f in answer if isinstance(f, Finding)] \
                    if isinstance(answer, list) else []
                if blamed and RunLimitReached.__name__ in blamed[0].message:
                    at = at._replace(path=blamed[0].path, line=blamed[0].line)
        self._kill()
        self._ended = at
        return at

    def _alive(self) -> bool:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
                return False
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode is None

    def _join(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while self._alive() and time.monotonic() < end:
            time.sleep(0.01)

    def _kill(self) -> None:
        if self._alive():
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)


def _fork(ws: Workspace, driver: str) -> tuple[int, Connection]:
    """Fork the child that serves ``ws``; its pid and the parent's end of the pipe."""
    parents_end, childs_end = socket.socketpair()
    parent, prctl = os.getpid(), _prctl()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            _isolate(keep=childs_end.fileno())
            _serve(ws, Connection(childs_end.detach()), driver, parent, prctl)
            code = 0
        finally:
            os._exit(code)
    childs_end.close()
    return pid, Connection(parents_end.detach())


def _isolate(keep: int) -> None:
    """Point every inherited descriptor but stdio and ``keep`` at /dev/null.

    Another thread of the parent may have been starting a process when we forked: the
    pipe it reads that process's output from must not stay open here, or it never sees
    EOF. Pointed at /dev/null rather than closed, so that a stale object that closes
    its descriptor later cannot close one this process has opened since.
    """
    null = os.open(os.devnull, os.O_RDWR)
    fds = [int(fd) for fd in os.listdir(_FD_DIR) if fd.isdigit()] if os.path.isdir(_FD_DIR) \
        else list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in (keep, null):
            with contextlib.suppress(OSError):
                os.dup2(null, fd, inheritable=False)


def _prctl() -> Callable[..., int] | None:
    """Linux's prctl, looked up before the fork: the child of a threaded parent should
    call no dlsym() of its own."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


def _serve(ws: Workspace, conn: Connection, driver: str, parent: int,
           prctl: Callable[..., int] | None) -> None:
    """The child: preload the revision files, then answer requests until told to end.
    It dies with the parent (a SIGKILLed parent leaves no child running a revision)."""
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it ends us
    signal.signal(signal.SIGTERM, _raise_limit)
    side = _ChildSide(ws, driver)
    with contextlib.suppress(RunLimitReached):
        ws.preload()
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError, RunLimitReached):
            return
        if request is None:
            return
        op, args = request
        try:
            answer: tuple[str, Any] = ("ok", getattr(side, op)(*args))
        except GuardError as exc:
            answer = ("guard", (exc.message, exc.hint))
        except RunLimitReached:
            answer = ("ok", [])
        except BaseException as exc:  # a bug of ours: told to the parent, which exits 2
            answer = ("crash", "".join(traceback.format_exception(exc)).strip())
        try:
            conn.send(answer)
        except (OSError, ValueError, RunLimitReached):
            return


def _raise_limit(signum: int, frame: FrameType | None) -> None:
    raise RunLimitReached


class _ChildSide:
    """The child's end: the Workspace's commands and env.py's models, by name."""

    def __init__(self, ws: Workspace, driver: str) -> None:
        self.ws = ws
        self.driver = driver
        self.models_of = Models()

    def _config(self, target: Handover) -> Any:
        if self.driver != DEFAULT_DRIVER:
            _set_database_timeouts(target)
        return self.ws.config(target)

    def upgrade(self, target: Handover, revision: str, code: str,
                doing: str) -> list[Finding]:
        return self.ws.upgrade(self._config(target), revision, code=code, doing=doing)

    def upgrade_traced(self, target: Handover, revision: str, code: str, doing: str,
                       spec: tuple[str, str, float, dict[str, int], frozenset[str]]
                       ) -> tuple[list[Finding], Any]:
        """An upgrade whose statements a trace observer sees, here in the child, on the
        connection alembic uses; what it saw goes back to the parent's observer."""
        from migration_guard.apply.trace import PassObserver
        from migration_guard.apply.trace_alembic import statement_hook

        conninfo, timezone, timeout_s, rows, traced = spec
        observer = PassObserver(conninfo, traced.__contains__, timezone=timezone,
                                statement_timeout_s=timeout_s)
        observer.rows = rows
        try:
            found = self.ws.upgrade(self._config(target), revision, code=code, doing=doing,
                                    observe=statement_hook(observer, self.ws.repo_path))
        finally:
            observer.close()
        return found, observer.export()

    def downgrade(self, target: Handover, revision: str, doing: str) -> list[Finding]:
        return self.ws.downgrade(self._config(target), revision, doing=doing)

    def models(self, target: Handover) -> tuple[ModelsInfo, list[Finding]]:
        return self.models_of.capture(self.ws, self._config(target))

    def create_all(self, url: str) -> list[Finding]:
        try:
            self.models_of.create_all(url)
        except Exception as exc:  # the models' own DDL (or an event hook) failed
            return [self.ws.finding(exc, code="MG206", doing="creating the models' schema")]
        return []

    def autogenerate(self, target: Handover) -> tuple[list[str], list[Finding]]:
        return self.models_of.autogenerate(self.ws, self._config(target))

    def narrow(self, expected: catalog.Schema,
               actual: catalog.Schema) -> tuple[catalog.Schema, catalog.Schema]:
        return self.models_of.narrow(expected, actual)


def _set_database_timeouts(target: Handover) -> None:
    """The session bounds for drivers that read no ``PGOPTIONS`` (asyncpg): set on the
    throwaway database itself, so that every session opened on it starts with them."""
    dbname = psycopg.conninfo.conninfo_to_dict(target.conninfo).get("dbname")
    with psycopg.connect(target.conninfo, autocommit=True) as conn:
        for setting, value in target.timeouts:
            conn.execute(sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                sql.Identifier(str(dbname)), sql.Identifier(setting), sql.Literal(value)))
