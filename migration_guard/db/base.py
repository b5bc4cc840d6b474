"""The shape every provider of a throwaway PostgreSQL shares."""

from __future__ import annotations

from typing import NamedTuple, Protocol


class Database(NamedTuple):
    """A throwaway database: its name and a libpq conninfo string to reach it."""

    name: str
    conninfo: str


class Server(Protocol):
    """A PostgreSQL server we may create (and drop) our own databases on.

    ``kind`` is ``"url"``, ``"embedded"`` or ``"system"``; ``version`` is
    ``server_version_num`` (``150020``). ``snapshot_template`` names a database holding a
    restored snapshot (see :meth:`save_snapshot`) when the server was started from one.
    ``build_key`` identifies a local server's binaries; None for a server given by URL,
    whose settings and extensions are unknown.
    """

    kind: str
    version: int
    snapshot_template: str | None
    build_key: str | None  # the server build, for caches of what it computes; None: unknown

    def create_database(self, *, template: str | None = None) -> Database: ...

    def drop_database(self, database: Database) -> None: ...

    def claim(self, template: str) -> Database:
        """Hand over a template of ours (``snapshot_template``) as a throwaway database, for
        its last use: no clone is made, and no further clone can be made of it."""
        ...

    def save_snapshot(self, database: Database) -> str:
        """Make ``database`` the run's template (for local servers, also persist it in the
        cache under the key the server was opened with); return the template's name. The
        database is the caller's no more: it may be renamed, and is dropped at stop."""
        ...
