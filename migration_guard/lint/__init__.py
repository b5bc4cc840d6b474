"""SQL lint for PostgreSQL migrations: safety (locks, rewrites, destructive changes,
transactions, types) and opt-in team conventions, on PostgreSQL's own grammar (pglast).

Plain SQL linting imports only pglast and the stdlib; Alembic rendering lives in
:mod:`migration_guard.lint.alembic_sql` and imports Alembic lazily, and the ignore-comment
helpers for other sources live in :mod:`migration_guard.lint.ignores` (loaded on demand).
"""

from __future__ import annotations

from migration_guard.lint.analysis import LintResult
from migration_guard.lint.options import LintOptions
from migration_guard.lint.registry import CODES, RULES, Rule, enabled_codes
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    from migration_guard.lint.engine import lint_bytes, lint_sql


def __getattr__(name: str) -> object:
    """The engine's entry points, imported on first use: importing the package for its
    options or a cached result does not load the parser and the rules (~10 ms)."""
    if name in ("lint_bytes", "lint_sql"):
        from migration_guard.lint import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CODES",
    "RULES",
    "LintOptions",
    "LintResult",
    "Rule",
    "enabled_codes",
    "lint_bytes",
    "lint_sql",
]
