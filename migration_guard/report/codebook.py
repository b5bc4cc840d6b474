"""Every finding code, joined from the families' tables: for names in reports, the rule docs
in SARIF, the README's table and the meta-tests."""

from __future__ import annotations

from migration_guard.codes import GIT_CODES, Code


def all_codes() -> dict[str, Code]:
    """Every registered code, across families (imports the lint and database tables)."""
    from migration_guard.apply.codes import CODES as DATABASE_CODES
    from migration_guard.lint.registry import CODES as LINT_CODES

    return {**GIT_CODES, **DATABASE_CODES, **LINT_CODES}
