"""SQL lint for PostgreSQL migrations: safety (locks, rewrites, destructive changes,
transactions, types) and opt-in team conventions, on PostgreSQL's own grammar (pglast).

Plain SQL linting imports only pglast and the stdlib; Alembic rendering lives in
:mod:`migration_guard.lint.alembic_sql` and imports Alembic lazily, and the ignore-comment
helpers for other sources live in :mod:`migration_guard.lint.ignores` (loaded on demand).
"""

from __future__ import annotations

from migration_guard.lint.engine import LintResult, lint_bytes, lint_sql
from migration_guard.lint.options import LintOptions
from migration_guard.lint.registry import CODES, RULES, Rule, enabled_codes

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
