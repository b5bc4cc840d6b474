"""The checks: each a function ``check(project, changeset, config) -> Outcome``.

Fast checks (``required``, ``immutable``, ``linear``) read git only; they never import
SQLAlchemy, alembic or psycopg.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from migration_guard.config import Config
from migration_guard.findings import Outcome
from migration_guard.git.changeset import ChangeSet
from migration_guard.projects import Project

CheckFunction = Callable[[Project, ChangeSet, Config], Outcome]


def get(name: str) -> CheckFunction:
    """The check function of a check name, imported only when that check runs."""
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
) -> list[Outcome]:
    """Each named check over each project, checks in the order given: one outcome each."""
    outcomes: list[Outcome] = []
    if len(projects) > 1 and set(names) & {"immutable", "linear", "required"}:
        changeset.prefetch_base([p.migrations for p in projects])
    for name in names:
        function = get(name)
        # A project whose migrations directory the change deleted has only merged
        # migrations left to compare; the other checks have nothing of it to look at.
        present = projects if name == "immutable" else [p for p in projects if not p.deleted]
        outcomes.extend(function(project, changeset, config) for project in present)
    return outcomes
