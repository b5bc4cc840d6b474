"""Alembic on files exported from the snapshot into a private directory.

The project's files (``alembic.ini``, the script directory, the Python modules ``env.py``
imports) are written to a temporary directory, never the working tree. One
:class:`~alembic.script.ScriptDirectory` serves every command of a run: each command runs
``env.py`` through :class:`~alembic.runtime.environment.EnvironmentContext` exactly as
``alembic.command.upgrade``/``downgrade`` do, without importing every revision file again.
While alembic runs, the URL it is given and the environment variable its ``env.py`` reads
(``DATABASE_URL`` unless configured) both point at the throwaway database; ``DATABASE_URL``
and every ``PG*`` variable are scrubbed so a real database cannot be reached by accident,
and restored afterwards, as are the working directory, ``sys.path`` and logging. The URL
holds no ``%`` (env.py may hand it to ``config.set_main_option``, which interpolates):
what would need quoting (a socket directory, a password, the session's timeouts) goes in
libpq's ``PG*`` variables instead. This module runs in the child process of
:mod:`migration_guard.apply.alembic_child`. Modules imported from the export (the models)
stay loaded while commands target one database (see :class:`Workspace`). Exceptions become
findings at the revision file and line that raised them.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import posixpath
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from migration_guard.apply import bytecode
from migration_guard.db import tempdirs
from migration_guard.db.redact import redact_url
from migration_guard.errors import GuardError
from migration_guard.findings import Finding
from migration_guard.frameworks.alembic import project_files
from migration_guard.git.changeset import Snapshot
from migration_guard.git.export import export_files, private_parent
from migration_guard.projects import Project
from migration_guard.typing_lite import NamedTuple

CHECK = "apply"
WORKSPACE_PREFIX = "mg-alembic-"
_SCRUBBED_PREFIXES = ("PG",)
_ALWAYS_SCRUBBED = ("DATABASE_URL",)
# Where env.py is pointed before a database exists: a socket directory that cannot exist.
_NOWHERE = "postgresql+psycopg://nobody@/nowhere?host=/nonexistent/migration-guard"
_URL = "migration_guard.url"  # the key of the command's Handover in Config.attributes
# The code of a downgrade that raised NotImplementedError: the round trip ends there with a
# note (a revision that declares it cannot be undone), never a finding of its own.
NOT_IMPLEMENTED = "not-implemented"

# What ``fn`` of an EnvironmentContext receives and returns: the database's current
# heads and the MigrationContext env.py configured; the steps to run.
StepsFn = Callable[[ScriptDirectory, Any, MigrationContext], Any]
# Watches the SQLAlchemy connection alembic runs on; returns what stops the watching.
Observe = Callable[[sa.Connection], Callable[[], None]]


# The driver the URL names when the project names none we can use: it serves sync and
# async engines alike.
DEFAULT_DRIVER = "psycopg"
# libpq conninfo keys and the environment variables libpq (and asyncpg, for those it
# knows) read them from.
_CONNINFO_ENV = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "user": "PGUSER",
    "password": "PGPASSWORD", "passfile": "PGPASSFILE", "options": "PGOPTIONS",
    "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY", "sslcrl": "PGSSLCRL", "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME", "target_session_attrs": "PGTARGETSESSIONATTRS",
    "service": "PGSERVICE", "gssencmode": "PGGSSENCMODE", "channel_binding": "PGCHANNELBINDING",
    "require_auth": "PGREQUIREAUTH", "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcompression": "PGSSLCOMPRESSION", "krbsrvname": "PGKRBSRVNAME",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
}
# What may stand in a URL as written: nothing there needs quoting.
_URL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


class Handover(NamedTuple):
    """What env.py is given for one database: a URL without ``%`` and the ``PG*``
    variables set while it runs; ``timeouts`` for drivers that do not read them."""

    url: str
    env: tuple[tuple[str, str], ...]
    conninfo: str
    timeouts: tuple[tuple[str, int], ...]


def handover(conninfo: str, *, statement_timeout_s: float, lock_timeout_s: float,
             driver: str = DEFAULT_DRIVER) -> Handover:
    """The URL and environment that reach ``conninfo`` through ``driver``: the database
    (and the user and TCP host, when they need no quoting) in the URL, the rest in
    ``PG*`` variables, the timeouts in ``PGOPTIONS``."""
    params = {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(conninfo).items()
              if v is not None}
    timeouts = (("statement_timeout", max(1, round(statement_timeout_s * 1000))),
                ("lock_timeout", max(1, round(lock_timeout_s * 1000))))
    params["options"] = " ".join(
        [*filter(None, [params.get("options")]), *(f"-c {k}={v}" for k, v in timeouts)])
    database = params.pop("dbname", "")
    if not _safe(database):
        raise GuardError(f"cannot hand the database name {database!r} to alembic",
                         "report this: throwaway databases have plain names")
    user = params.get("user", "")
    host = params.get("host", "")
    in_url = f"{user}@" if _safe(user) and user else ""
    if _safe(host) and host and "," not in host:
        port = params.get("port", "")
        in_url += host + (f":{port}" if port.isdigit() else "")
    env = tuple(sorted((_CONNINFO_ENV[k], v) for k, v in params.items()
                       if k in _CONNINFO_ENV))
    # Settings libpq reads from no variable (keepalives ...) stay in the URL, if they can
    # without quoting.
    query = sorted((k, v) for k, v in params.items() if k not in _CONNINFO_ENV)
    unfit = [k for k, v in query if not (_safe(k) and _safe(v))]
    if unfit:
        raise GuardError(f"cannot hand the connection setting(s) {', '.join(unfit)} to "
                         "alembic without quoting them in its URL",
                         "remove them from the database URL given to migration-guard")
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query) if query else ""
    return Handover(f"postgresql+{driver}://{in_url}/{database}{suffix}", env, conninfo,
                    timeouts)


def _safe(text: str) -> bool:
    return set(text) <= _URL_SAFE


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
    """An exported Alembic project, one ScriptDirectory, and the commands run on it.

    Project modules (the models, settings read from the environment) stay imported from
    one command to the next while the database stays the same, as in one ``alembic``
    process; when a command targets another database they are imported afresh, so that
    whatever they read from the URL at import time names that database. The revision
    files are imported once, unless they import project modules themselves: then they
    are imported again with them.
    """

    def __init__(self, project: Project, snapshot: Snapshot, *, env_var: str,
                 bytecode_cache: Path | None = None) -> None:
        assert project.alembic_ini is not None
        self.project = project
        self.env_var = env_var
        # Marked as ours like a server's directory: the next run reaps it after a SIGKILL.
        self.dir = tempdirs.make_owned_dir(Path(private_parent() or tempfile.gettempdir()),
                                           WORKSPACE_PREFIX, tempdirs.current_owner("ws"))
        self.here = self.dir / posixpath.dirname(project.alembic_ini)
        self.script: ScriptDirectory | None = None
        self.prepended: list[str] = []  # what alembic put on sys.path for prepend_sys_path
        self._modules = set(sys.modules)
        self._database: str | None = None  # what the project modules were imported for
        self._revisions_import_project = False
        try:
            assert project.alembic_ini is not None and project.env_py is not None
            files = project_files(snapshot.files, alembic_ini=project.alembic_ini,
                                  env_py=project.env_py, migrations=project.migrations,
                                  root=project.root)
            written = export_files(snapshot, files, self.dir)
            self._prime_bytecode(snapshot, written, bytecode_cache)
        except BaseException:
            self.close()
            raise

    def _prime_bytecode(self, snapshot: Snapshot, written: list[Path],
                        cache: Path | None) -> None:
        """Compiled revision files (and env.py) from the cache: alembic loads them all."""
        assert self.project.env_py is not None
        script_dir = posixpath.dirname(self.project.env_py) + "/"
        rels = {p: p.relative_to(self.dir).as_posix() for p in written if p.suffix == ".py"}
        wanted = {p: rel for p, rel in rels.items() if rel.startswith(script_dir)}
        contents = snapshot.read_many(list(wanted.values()))
        bytecode.prime([(p, contents[rel]) for p, rel in wanted.items()], cache)

    def close(self) -> None:
        self._forget_project_modules()
        self.script = None
        tempdirs.remove_dir_soon(self.dir)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def config(self, target: Handover) -> AlembicConfig:
        assert self.project.alembic_ini is not None
        cfg = AlembicConfig(str(self.dir / self.project.alembic_ini), stdout=io.StringIO())
        cfg.set_main_option("sqlalchemy.url", target.url)
        if self.project.env_py is not None:  # as detection resolved it (the ini may not say)
            cfg.set_main_option("script_location",
                                str(self.dir / posixpath.dirname(self.project.env_py)))
        cfg.attributes[_URL] = target
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
    def environment(self, cfg: AlembicConfig) -> Iterator[io.StringIO]:
        """Environment, cwd, sys.path and logging set up for one command on ``cfg``'s
        database."""
        target: Handover = cfg.attributes[_URL]
        self._enter_database(target.url)
        output = io.StringIO()
        with _scrubbed_environ(self.env_var, target), _restored_process_state(), \
                contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            os.chdir(self.here)
            sys.path[:0] = [*self.prepended,
                            *(str(self.dir / root) for root in self.project.module_roots)]
            yield output

    def _enter_database(self, url: str) -> None:
        database = _database_of(url)
        if database == self._database:
            return
        if self._forget_project_modules() and self._revisions_import_project:
            self.script = None
        self._database = database

    def _forget_project_modules(self) -> bool:
        """Drop the modules imported from the export; whether there were any."""
        mine = [name for name in set(sys.modules) - self._modules
                if _under(getattr(sys.modules[name], "__file__", None), self.dir)]
        for name in mine:
            del sys.modules[name]
        return bool(mine)

    def _script(self, cfg: AlembicConfig) -> ScriptDirectory:
        """The ScriptDirectory, its revision files imported (once, unless they import
        project modules: see the class)."""
        if self.script is None:
            path, modules = list(sys.path), set(sys.modules)
            script = ScriptDirectory.from_config(cfg)
            added = len(sys.path) - len(path)
            if added > 0 and sys.path[added:] == path:
                self.prepended = sys.path[:added]
            script.get_heads()  # imports every revision file
            self._revisions_import_project = any(
                _under(getattr(sys.modules[name], "__file__", None), self.dir)
                for name in set(sys.modules) - modules)
            self.script = script
        return self.script

    def preload(self) -> None:
        """Import the revision files now (say, while the server boots), against a URL that
        reaches no server. A failure is left for the first command to meet again."""
        cfg = self.config(Handover(_NOWHERE, (), "", ()))
        with self.environment(cfg), contextlib.suppress(Exception, SystemExit):
            self._script(cfg)

    def run_env(self, cfg: AlembicConfig, fn: StepsFn, *, code: str, doing: str,
                destination: str | None = None, down: bool = False,
                observe: Observe | None = None) -> list[Finding]:
        """Run env.py once with ``fn`` as the work of ``context.run_migrations()``, the way
        every ``alembic.command`` does; a raised exception becomes a finding. ``observe``
        watches the connection env.py gave alembic while the migrations run on it."""
        stops: list[Callable[[], None]] = []
        with self.environment(cfg):
            try:
                script = self._script(cfg)

                def steps(rev: Any, context: MigrationContext) -> Any:
                    if observe is not None and context.connection is not None:
                        stops.append(observe(context.connection))
                    return fn(script, rev, context)

                with EnvironmentContext(cfg, script, fn=steps, as_sql=False,
                                        destination_rev=destination):
                    script.run_env()
            except (Exception, SystemExit) as exc:  # user code (env.py) may raise anything
                if isinstance(exc, NotImplementedError) and down:
                    code = NOT_IMPLEMENTED
                return [self.finding(exc, code=code, doing=doing)]
            finally:
                for stop in stops:
                    stop()
        return []

    def upgrade(self, cfg: AlembicConfig, target: str, *, code: str = "MG201",
                doing: str = "upgrade", observe: Observe | None = None) -> list[Finding]:
        """``alembic upgrade target``, on the run's ScriptDirectory."""
        def steps(script: ScriptDirectory, rev: Any, context: MigrationContext) -> Any:
            return script._upgrade_revs(target, rev)  # as alembic.command.upgrade does

        return self.run_env(cfg, steps, code=code, doing=doing, destination=target,
                            observe=observe)

    def downgrade(self, cfg: AlembicConfig, target: str, *, doing: str) -> list[Finding]:
        """``alembic downgrade target``, on the run's ScriptDirectory."""
        def steps(script: ScriptDirectory, rev: Any, context: MigrationContext) -> Any:
            return script._downgrade_revs(target, rev)  # as alembic.command.downgrade does

        return self.run_env(cfg, steps, code="MG204", doing=doing, destination=target,
                            down=True)

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
def _scrubbed_environ(env_var: str, target: Handover) -> Iterator[None]:
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(_SCRUBBED_PREFIXES) or key in _ALWAYS_SCRUBBED:
            del os.environ[key]
    os.environ.update(target.env)
    os.environ[env_var] = target.url
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _restored_process_state() -> Iterator[None]:
    cwd = os.getcwd()
    path = list(sys.path)
    root_logger = logging.getLogger()
    handlers, level = list(root_logger.handlers), root_logger.level
    disabled = {name: logger.disabled for name, logger in logging.Logger.manager.loggerDict.items()
                if isinstance(logger, logging.Logger)}
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        root_logger.handlers[:] = handlers
        root_logger.setLevel(level)
        for name, was in disabled.items():
            logger = logging.Logger.manager.loggerDict.get(name)
            if isinstance(logger, logging.Logger):
                logger.disabled = was


def _database_of(url: str) -> str:
    """The database a URL names: the same for URLs that differ only in session options."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return url
    return parsed.difference_update_query(["options"]).render_as_string(hide_password=False)


def _under(filename: object, directory: Path) -> bool:
    if not isinstance(filename, str):
        return False
    return os.path.realpath(filename).startswith(os.path.realpath(directory) + os.sep)


def require_alembic_paths(project: Project) -> None:
    if project.alembic_ini is None or project.env_py is None:
        raise GuardError(f"project {project.name}: no alembic.ini found for it",
                         "set `alembic_ini` for this project in the config")
