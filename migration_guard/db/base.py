"""The shape every provider of a throwaway PostgreSQL shares."""

from __future__ import annotations

from typing import Protocol

from migration_guard.typing_lite import NamedTuple


class Database(NamedTuple):
    """A throwaway database: its name and a libpq conninfo string to reach it."""

    name: str
    conninfo: str


class Wants(NamedTuple):
    """What the server must offer: production's major (``None``: any; ``strict``: a server
    of another major is refused), the extensions the migrations create, and, on a server
    URL, whose privileges the migrations run with (see ``postgres.url_role``)."""

    major: int | None = None
    strict: bool = False
    extensions: frozenset[str] = frozenset()
    url_role: str = "contained"


class Server(Protocol):
    """A PostgreSQL server we may create (and drop) our own databases on.

    ``kind`` is ``"url"``, ``"machine"``, ``"wheel"`` or ``"embedded"``; ``version`` is
    ``server_version_num`` (``150020``). ``snapshot_template`` names a database holding a
    restored snapshot (see :meth:`save_snapshot`) when the server was started from one.
    ``build_key`` identifies a local server's binaries; None for a server given by URL,
    whose settings and extensions are unknown.
    """

    kind: str
    version: int
    snapshot_template: str | None
    notes: list[str]  # what a reviewer should see about the choice (a version mismatch)

    @property
    def description(self) -> str:
        """``PostgreSQL 15.20 (machine: /usr/lib/postgresql/15/bin)``."""
        ...

    @property
    def mode(self) -> str:
        """Whose privileges the migrations run with, as the output tells it."""
        ...
    build_key: str | None  # the server build, for caches of what it computes; None: unknown

    def create_database(self, *, template: str | None = None) -> Database: ...

    def run_admin_sql(self, sql: str) -> None:
        """Run ``sql`` as the server's own administrator (cluster-wide setup a preset
        needs, such as roles, that the migrations' role may not do)."""
        ...

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


def version_text(version: int) -> str:
    """``150020`` as ``15.20`` (``90624`` as ``9.6.24``)."""
    if version >= 100000:
        return f"{version // 10000}.{version % 10000}"
    return f"{version // 10000}.{version // 100 % 100}.{version % 100}"
