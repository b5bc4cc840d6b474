"""Judging a schema change by the framework's own generator, where the fast rule would fail.

The fast rule of ``required`` guesses by file name: a schema source changed and no
migration was added. Where a generator can say whether the change needs a migration (a
framework module's ``prove_required``, or a configured ``generate_check`` command that
exits 1 when one is needed), it runs on a throwaway export of the checked snapshot (never
the working tree) and decides instead.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import subprocess
from collections.abc import Iterator
from pathlib import Path

from migration_guard.changeset import ChangeSet
from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.projects import Project

CHECK = "required"
GENERATOR_TIMEOUT_S = 300
# Installed packages and tool caches are linked from the work tree or not needed.
_SKIPPED_DIRS = frozenset({"node_modules", ".git", ".venv", "venv", "__pycache__", ".tox"})


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


@contextlib.contextmanager
def exported(changeset: ChangeSet, run_dir: str) -> Iterator[tuple[Path, Path]]:
    """A throwaway export of the snapshot's files (a generator may read any), with the work tree's
    ``node_modules`` directories linked in where they sit (nothing is written to the work
    tree); yields the export root and the directory the generator runs in."""
    from migration_guard.export import export_files, temporary_directory

    snapshot = changeset.candidate
    wanted = [p for p in snapshot.files if not _SKIPPED_DIRS.intersection(p.split("/")[:-1])
              and snapshot.files[p].mode.startswith("100")]
    with temporary_directory("mg-generate-") as tmp:
        root = Path(tmp)
        export_files(snapshot, wanted, root)
        link_node_modules(Path(changeset.git.toplevel), root, run_dir)
        target = root / run_dir if run_dir else root
        target.mkdir(parents=True, exist_ok=True)
        yield root, target


def link_node_modules(worktree: Path, root: Path, run_dir: str) -> None:
    """Make the work tree's installed packages reachable from the export as node resolves
    them: each ``node_modules`` from the run directory up to the repository root."""
    directory = run_dir
    while True:
        installed = worktree / directory / "node_modules"
        if installed.is_dir():
            link = root / directory / "node_modules"
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(installed, link)
        if not directory:
            return
        directory = posixpath.dirname(directory)


def find_installed(worktree: Path, run_dir: str, name: str) -> Path | None:
    """``node_modules/.bin/<name>`` nearest to ``run_dir`` in the work tree."""
    directory = run_dir
    while True:
        candidate = worktree / directory / "node_modules" / ".bin" / name
        if candidate.exists():
            return candidate
        if not directory:
            return None
        directory = posixpath.dirname(directory)


def run(argv: list[str], cwd: Path, *, what: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["CI"] = "1"  # tools that would prompt print and stop instead
    try:
        return subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, errors="replace",
                              timeout=GENERATOR_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise GuardError(f"{what} did not finish within {GENERATOR_TIMEOUT_S} s",
                         "run it by hand to see where it waits") from None
    except OSError as exc:
        raise GuardError(f"cannot run {what}: {exc}", "check that it is installed") from None
