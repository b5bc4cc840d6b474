"""Alembic in process, on files materialised from the snapshot into a private directory.

The project's files (``alembic.ini``, the script directory, the Python modules ``env.py``
imports) are written to a temporary directory, never the working tree. While alembic
runs, the URL it is given and the environment variable its ``env.py`` reads (``DATABASE_URL``
unless configured) both point at the throwaway database; ``DATABASE_URL`` and every
``PG*`` variable are scrubbed so a real database cannot be reached by accident, and
restored afterwards, as are the working directory, ``sys.path``, ``sys.modules`` and
logging. Exceptions become findings at the revision file and line that raised them.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import posixpath
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from migration_guard.changeset import Snapshot
from migration_guard.db.redact import redact_url
from migration_guard.errors import GuardError
from migration_guard.findings import Finding
from migration_guard.projects import Project

CHECK = "apply"
_SCRUBBED_PREFIXES = ("PG",)
_ALWAYS_SCRUBBED = ("DATABASE_URL",)
_SKIPPED_DIRS = frozenset({"node_modules", ".git", ".venv", "venv", "__pycache__", ".tox"})


def project_files(project: Project, files: dict[str, Any]) -> list[str]:
    """What alembic needs: alembic.ini, the script directory, Python files under the root."""
    assert project.alembic_ini is not None and project.env_py is not None
    script_dir = posixpath.dirname(project.env_py)
    root = project.root + "/" if project.root else ""
    wanted: list[str] = []
    for path in files:
        if not path.startswith(root) or _SKIPPED_DIRS & set(path.split("/")[:-1]):
            continue
        if path == project.alembic_ini or path.startswith(script_dir + "/") \
                or path.startswith(project.migrations + "/") or path.endswith(".py"):
            wanted.append(path)
    return wanted


def materialise(project: Project, snapshot: Snapshot, target: Path) -> None:
    """Write the project's files, as the snapshot holds them, below ``target``."""
    paths = project_files(project, snapshot.files)
    for path, data in snapshot.read_many(paths).items():
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)


def sqlalchemy_url(conninfo: str, *, statement_timeout_s: float, lock_timeout_s: float) -> str:
    """An SQLAlchemy URL (psycopg 3 driver) for a libpq conninfo, with the bounds as options."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    options = (f"-c statement_timeout={max(1, round(statement_timeout_s * 1000))} "
               f"-c lock_timeout={max(1, round(lock_timeout_s * 1000))}")
    query = {"options": options}
    host = str(params.get("host") or "")
    port = params.get("port")
    if host.startswith("/"):
        query["host"] = host
        if port:
            query["port"] = str(port)
        host, port = "", None
    url = sa.engine.URL.create(
        "postgresql+psycopg", username=_opt(params.get("user")),
        password=_opt(params.get("password")), host=host or None,
        port=int(port) if port else None, database=_opt(params.get("dbname")), query=query)
    return url.render_as_string(hide_password=False)


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


class Workspace:
    """A materialised Alembic project and the settings to run its commands."""

    def __init__(self, project: Project, snapshot: Snapshot, *, env_var: str) -> None:
        assert project.alembic_ini is not None
        self.project = project
        self.env_var = env_var
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # file creation is cheap
        self.dir = Path(tempfile.mkdtemp(prefix="mg-alembic-", dir=shm))
        self.here = self.dir / posixpath.dirname(project.alembic_ini)
        materialise(project, snapshot, self.dir)
        self.url = ""

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def config(self, url: str) -> AlembicConfig:
        assert self.project.alembic_ini is not None
        cfg = AlembicConfig(str(self.dir / self.project.alembic_ini), stdout=io.StringIO())
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        self.url = url
        return cfg

    def repo_path(self, filename: str) -> str | None:
        """The repository path of a materialised file, None for files outside."""
        if not os.path.isabs(filename):
            return None  # "<string>": code alembic generates, such as the op proxies
        try:
            return Path(os.path.realpath(filename)).relative_to(
                os.path.realpath(self.dir)).as_posix()
        except ValueError:
            return None

    @contextlib.contextmanager
    def environment(self) -> Iterator[io.StringIO]:
        """Environment, cwd, sys.path, modules and logging set up for one alembic call."""
        output = io.StringIO()
        with _scrubbed_environ(self.env_var, self.url), _restored_process_state(self.dir), \
                contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            os.chdir(self.here)
            sys.path[:0] = [str(self.dir / root) for root in self.project.module_roots]
            yield output

    def run(self, cfg: AlembicConfig, action: Callable[[AlembicConfig], None], *,
            code: str, doing: str) -> list[Finding]:
        """Run one alembic command; a raised exception becomes a finding."""
        with self.environment():
            try:
                action(cfg)
            except (Exception, SystemExit) as exc:  # user code (env.py) may raise anything
                return [self.finding(exc, code=code, doing=doing)]
        return []

    def upgrade(self, cfg: AlembicConfig, target: str, *, code: str = "MG201",
                doing: str = "upgrade") -> list[Finding]:
        return self.run(cfg, lambda c: command.upgrade(c, target), code=code, doing=doing)

    def downgrade(self, cfg: AlembicConfig, target: str, *, doing: str) -> list[Finding]:
        return self.run(cfg, lambda c: command.downgrade(c, target), code="MG204", doing=doing)

    def finding(self, exc: BaseException, *, code: str, doing: str) -> Finding:
        path, line = self._blame(exc)
        message, hint, code = _describe(exc, code)
        return Finding(code, path, line, redact_url(f"{doing} failed: {message}"),
                       redact_url(hint), check=CHECK)

    def _blame(self, exc: BaseException) -> tuple[str, int | None]:
        if isinstance(exc, SyntaxError) and exc.filename:
            found = self.repo_path(exc.filename)
            if found is not None:
                return found, exc.lineno
        blamed: tuple[str, int | None] | None = None
        for frame in traceback.extract_tb(exc.__traceback__):
            found = self.repo_path(frame.filename)
            if found is not None:
                blamed = (found, frame.lineno)
        if blamed is not None:
            return blamed
        return self.project.alembic_ini or self.project.migrations, None


def _describe(exc: BaseException, code: str) -> tuple[str, str, str]:
    """Message, hint and code for an exception raised while alembic ran."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, psycopg.Error) and orig.sqlstate:
        diag = orig.diag
        primary = diag.message_primary or str(orig).strip()
        statement = " ".join(str(getattr(exc, "statement", "") or "").split())[:160]
        if orig.sqlstate in ("57014", "55P03") and "timeout" in primary:
            setting = "statement_timeout" if orig.sqlstate == "57014" else "lock_timeout"
            return (f"statement hit {setting}: {statement}",
                    f"make the statement finish sooner, or raise database.{setting}", "MG202")
        details = "".join(f"; {label}: {value}" for label, value in (
            ("detail", diag.message_detail), ("statement", statement)) if value)
        return (f"{primary} [SQLSTATE {orig.sqlstate}]{details}",
                diag.message_hint or "fix the migration so that it applies on top of the "
                "ones before it", code)
    text = " ".join(str(exc).split()) or type(exc).__name__
    return (f"{type(exc).__name__}: {text[:500]}",
            "fix the error at this line; run the same alembic command locally to see it",
            code)


@contextlib.contextmanager
def _scrubbed_environ(env_var: str, url: str) -> Iterator[None]:
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(_SCRUBBED_PREFIXES) or key in _ALWAYS_SCRUBBED:
            del os.environ[key]
    os.environ[env_var] = url
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _restored_process_state(workdir: Path) -> Iterator[None]:
    cwd = os.getcwd()
    path = list(sys.path)
    modules = set(sys.modules)
    root_logger = logging.getLogger()
    handlers, level = list(root_logger.handlers), root_logger.level
    disabled = {name: logger.disabled for name, logger in logging.Logger.manager.loggerDict.items()
                if isinstance(logger, logging.Logger)}
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if _under(getattr(sys.modules[name], "__file__", None), workdir):
                del sys.modules[name]
        root_logger.handlers[:] = handlers
        root_logger.setLevel(level)
        for name, was in disabled.items():
            logger = logging.Logger.manager.loggerDict.get(name)
            if isinstance(logger, logging.Logger):
                logger.disabled = was


def _under(filename: object, directory: Path) -> bool:
    if not isinstance(filename, str):
        return False
    return os.path.realpath(filename).startswith(os.path.realpath(directory) + os.sep)


def require_alembic_paths(project: Project) -> None:
    if project.alembic_ini is None or project.env_py is None:
        raise GuardError(f"project {project.name}: no alembic.ini found for it",
                         "set `alembic_ini` for this project in the config")
