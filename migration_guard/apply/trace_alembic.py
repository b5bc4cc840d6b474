"""The trace inside Alembic: each statement a revision file runs, seen through
SQLAlchemy's cursor events on the connection alembic uses.

A plain function of a connection, so it works wherever alembic runs (in this process or
a child): :func:`statement_hook` returns what :meth:`Workspace.run_env
<migration_guard.apply.alembic_run.Workspace.run_env>` calls with ``context.connection``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy as sa

from migration_guard.db.execute import Statement, StatementObserver

RepoPath = Callable[[str], str | None]


def statement_hook(observer: StatementObserver, repo_path: RepoPath
                   ) -> Callable[[sa.Connection], Callable[[], None]]:
    """Observe every statement run on a connection; each is located at the line of the
    innermost project file on the stack (the revision's ``op.*`` call), which is how the
    trace tells a revision's statements from alembic's own bookkeeping."""
    paths: dict[str, str | None] = {}

    def locate() -> tuple[str, int]:
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if name not in paths:
                paths[name] = repo_path(name)
            found = paths[name]
            if found is not None:
                return found, frame.f_lineno
            frame = frame.f_back  # type: ignore[assignment]
        return "", 0

    def observe(connection: sa.Connection) -> Callable[[], None]:
        running: list[tuple[str, Statement]] = []
        if not isinstance(connection.connection.dbapi_connection, psycopg.Connection):
            # An async driver: its connection cannot be asked what it holds between two
            # statements from here, so its statements are not traced.
            return lambda: None

        def before(conn: sa.Connection, cursor: Any, statement: str, *_: Any) -> None:
            path, line = locate()
            running[:] = [(path, Statement(statement, line))]
            # The statement is SQLAlchemy's to send: the observer reads the state itself.
            observer.before(cursor.connection, path, running[0][1])

        def after(conn: sa.Connection, cursor: Any, statement: str, *_: Any) -> None:
            if running:
                path, seen = running.pop()
                observer.after(cursor.connection, path, seen)

        def ended(conn: sa.Connection) -> None:
            raw = conn.connection.dbapi_connection
            if isinstance(raw, psycopg.Connection):
                observer.ended(raw)

        hooks: list[tuple[str, Callable[..., None]]] = [
            ("before_cursor_execute", before), ("after_cursor_execute", after),
            ("commit", ended), ("rollback", ended)]
        for name, hook in hooks:
            sa.event.listen(connection, name, hook)

        def stop() -> None:
            for name, hook in hooks:
                if sa.event.contains(connection, name, hook):
                    sa.event.remove(connection, name, hook)

        return stop

    return observe
