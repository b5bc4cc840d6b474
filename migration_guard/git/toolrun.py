"""Running a project's own tool (a generator such as ``drizzle-kit``, a configured
``generate_check`` command) on a throwaway export of the checked snapshot, never the work
tree: the export holds every file, the work tree's installed ``node_modules`` are linked in
where they sit, and the tool runs without a terminal, a git environment or forever."""

from __future__ import annotations

import contextlib
import os
import posixpath
import subprocess
from collections.abc import Iterator
from pathlib import Path

from migration_guard.errors import GuardError
from migration_guard.git.changeset import ChangeSet

GENERATOR_TIMEOUT_S = 300
# Installed packages and tool caches are linked from the work tree or not needed.
_SKIPPED_DIRS = frozenset({"node_modules", ".git", ".venv", "venv", "__pycache__", ".tox"})


@contextlib.contextmanager
def exported(changeset: ChangeSet, run_dir: str) -> Iterator[tuple[Path, Path]]:
    """A throwaway export of the snapshot's files (a generator may read any), with the work tree's
    ``node_modules`` directories linked in where they sit (nothing is written to the work
    tree); yields the export root and the directory the generator runs in."""
    from migration_guard.git.export import export_files, temporary_directory

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
