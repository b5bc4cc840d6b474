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
    """

    kind: str
    version: int
    snapshot_template: str | None

    def create_database(self, *, template: str | None = None) -> Database: ...

    def drop_database(self, database: Database) -> None: ...

    def save_snapshot(self, database: Database) -> str:
        """Keep ``database`` as a template (and, for local servers, persist it in the cache
        under the key the server was opened with); return the template's name."""
        ...
