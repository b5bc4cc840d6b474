"""The checks: each a function ``check(project, changeset, config) -> Outcome``.

Fast checks (``required``, ``immutable``, ``linear``) read git only; they never import
SQLAlchemy, alembic or psycopg.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from migration_guard.changeset import ChangeSet
from migration_guard.config import Config
from migration_guard.errors import GuardError
from migration_guard.findings import Outcome
from migration_guard.projects import Project

CheckFunction = Callable[[Project, ChangeSet, Config], Outcome]


def get(name: str) -> CheckFunction:
    if name == "required":
        from migration_guard.checks.required import check
    elif name == "immutable":
        from migration_guard.checks.immutable import check
    elif name == "linear":
        from migration_guard.checks.linear import check
    elif name == "lint":
        from migration_guard.checks.lint import check
    elif name == "apply":
        from migration_guard.checks.apply import check
    else:
        raise KeyError(name)
    return check


def run_checks(
    names: Sequence[str], changeset: ChangeSet, projects: Sequence[Project], config: Config
) -> tuple[list[Outcome], GuardError | None]:
    """Every outcome, and the first check that could not run: the others still run and
    their findings are still reported (the caller exits 2 after rendering them)."""
    outcomes: list[Outcome] = []
    failure: GuardError | None = None
    if len(projects) > 1 and set(names) & {"immutable", "linear", "required"}:
        changeset.prefetch_base([p.migrations for p in projects])
    for name in names:
        function = get(name)
        for project in projects:
            try:
                outcomes.append(function(project, changeset, config))
            except GuardError as error:
                failure = failure or error
    return outcomes, failure
