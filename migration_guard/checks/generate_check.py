"""Judging a schema change by the framework's own generator, where the fast rule would fail.

The fast rule of ``required`` guesses by file name: a schema source changed and no
migration was added. Where a generator can say whether the change needs a migration (a
framework module's ``prove_required``, or a configured ``generate_check`` command that
exits 1 when one is needed), it runs on a throwaway export of the checked snapshot (never
the working tree) and decides instead.
"""

from __future__ import annotations

from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.git.changeset import ChangeSet
from migration_guard.git.toolrun import exported, run
from migration_guard.projects import Project

CHECK = "required"


def judge(project: Project, changeset: ChangeSet, findings: list[Finding]) -> Outcome:
    """The fast rule's ``findings`` confirmed, replaced or withdrawn by a generator."""
    command = project.config.generate_check if project.config is not None else None
    if command:
        return _configured(project, changeset, findings, command)
    proof = project.fw.prove_required(project, changeset, findings)
    if proof is not None:
        return proof
    return Outcome(CHECK, project.name, findings, [])


def _configured(project: Project, changeset: ChangeSet, findings: list[Finding],
                command: str) -> Outcome:
    with exported(changeset, project.root) as (_root, run_dir):
        proc = run(["sh", "-c", command], run_dir, what=f"generate_check `{command}`")
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode == 0:
        note = Note(findings[0].path, f"generate_check `{command}` (run on the checked "
                    "snapshot) says no migration is needed: the change passes",
                    CHECK, project.name)
        return Outcome(CHECK, project.name, [], [note])
    if proc.returncode == 1:
        first = findings[0]
        return Outcome(CHECK, project.name, [first._replace(
            message=f"schema source changed but no migration was added to "
                    f"{project.migrations}/: generate_check `{command}` says one is needed"
                    + (f": {output}" if output else ""))], [])
    raise GuardError(
        f"generate_check `{command}` exited {proc.returncode} in {project.root or '.'}/: "
        f"{output or 'no output'}",
        "make the command exit 0 when no migration is needed and 1 when one is")
