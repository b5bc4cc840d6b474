"""The checks: each a function ``check(project, changeset, config) -> Outcome``.

Fast checks (``required``, ``immutable``, ``linear``) read git only; they never import
SQLAlchemy, alembic or psycopg.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from migration_guard.config import Config
from migration_guard.errors import GuardError
from migration_guard.findings import Note, Outcome
from migration_guard.git.changeset import ChangeSet
from migration_guard.projects import Project

CheckFunction = Callable[[Project, ChangeSet, Config], Outcome]

#: The checks that read the change's diff (``ChangeSet.changes``); the others compare trees.
READ_CHANGES = frozenset({"required", "apply"})


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
    names: Sequence[str], changeset: ChangeSet, projects: Sequence[Project], config: Config,
    *, prove: bool = False,
) -> tuple[list[Outcome], GuardError | None]:
    """Every outcome, and the first check that could not run: the others still run and
    their findings are still reported (the caller exits 2 after rendering them).
    ``prove``: ``required`` judges model changes on a database where the file rule alone
    would fail (``required --prove``, or when ``apply`` runs too: a database is at hand)."""
    outcomes: list[Outcome] = []
    failure: GuardError | None = None
    # required lists the base only for an edit of a migration: it is not listed for it.
    if len(projects) > 1 and set(names) & {"immutable", "linear"}:
        changeset.prefetch_base([p.migrations for p in projects])
    for name in names:
        function = get(name)
        # A project whose migrations directory the change deleted has only merged
        # migrations left to compare; the other checks have nothing of it to look at.
        present = projects if name == "immutable" else [p for p in projects if not p.deleted]
        if name == "required" and (prove or "apply" in names):
            from migration_guard.checks.required import check_proven

            function = check_proven
        for project in present:
            try:
                outcomes.append(function(project, changeset, config))
            except GuardError as error:
                failure = failure or error
    return _with_detection_notes(outcomes, projects), failure


def _with_detection_notes(outcomes: list[Outcome], projects: Sequence[Project]
                          ) -> list[Outcome]:
    """What detection could not find, said once per project (never a silent project)."""
    for project in projects:
        at = next((i for i, o in enumerate(outcomes) if o.project == project.name), None)
        if not project.notes or at is None:
            continue
        outcome = outcomes[at]
        where = project.framework_config or project.migrations
        notes = [Note(where, message, outcome.check, project.name) for message in project.notes]
        outcomes[at] = outcome._replace(notes=[*notes, *outcome.notes])
    return outcomes
