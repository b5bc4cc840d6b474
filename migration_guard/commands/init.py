"""The ``init`` command: detect the repository's migration projects and write the config,
the pre-commit config and the GitHub Actions caller workflow from ``templates/``.

It writes files only (no ``git add``), at the repository root, and never overwrites one
without ``--force``. For an existing ``.pre-commit-config.yaml`` it prints the entry to add.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, NamedTuple

from migration_guard.config import PYPROJECT_NAME, YAML_NAME
from migration_guard.errors import GuardError

if TYPE_CHECKING:  # the parser is built on every hook run: keep this module's imports light
    from migration_guard.git.repo import Git
    from migration_guard.projects import Project

SUMMARY = ("detect the migration projects and write .migration-guard.yaml, "
           ".pre-commit-config.yaml and a GitHub Actions workflow")
PRE_COMMIT_PATH = ".pre-commit-config.yaml"
WORKFLOW_PATH = ".github/workflows/migration-guard.yml"
_PROJECTS_EXAMPLE = "#projects:"
_YAML_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser("init", help=SUMMARY, description=SUMMARY)
    sub.add_argument("--force", action="store_true", help="overwrite files that exist")
    sub.add_argument("-C", dest="directory", default=".",
                     help="run as if started in this directory")


class Planned(NamedTuple):
    path: str  # repository-relative
    content: str


def _scalar(value: str) -> str:
    if _YAML_PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def projects_yaml(projects: Sequence[Project]) -> str:
    """A ``projects:`` list naming what detection found, so the config pins it."""
    lines = ["", "# The projects `migration-guard init` detected:", "projects:"]
    for project in projects:
        lines.append(f"  - name: {_scalar(project.name)}")
        lines.append(f"    framework: {project.framework}")
        if project.alembic_ini is not None:
            lines.append(f"    alembic_ini: {_scalar(project.alembic_ini)}")
        lines.append(f"    migrations: {_scalar(project.migrations)}")
    return "\n".join(lines) + "\n"


def config_text(projects: Sequence[Project]) -> str:
    """The config template with the detected projects listed after its commented example."""
    from migration_guard import template_files

    text = template_files.read(template_files.CONFIG)
    if not projects:
        return text
    lines = text.splitlines(keepends=True)
    try:
        end = lines.index(_PROJECTS_EXAMPLE + "\n") + 1
    except ValueError:
        raise GuardError(f"the config template has no {_PROJECTS_EXAMPLE} block",
                         "reinstall migration-guard") from None
    while end < len(lines) and lines[end].startswith("#  "):
        end += 1
    return "".join([*lines[:end], projects_yaml(projects), *lines[end:]])


def repos_entry(snippet: str) -> list[str]:
    """The lines of the pre-commit snippet below ``repos:``: what to add to an existing file."""
    lines = snippet.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.rstrip() == "repos:"), 0)
    return [line for line in lines[start:] if line.strip()]


def _has_pyproject_config(root: str) -> bool:
    try:
        with open(os.path.join(root, PYPROJECT_NAME), encoding="utf-8", errors="replace") as f:
            return any(line.strip().startswith("[tool.migration-guard") for line in f)
    except OSError:
        return False


def init(git: Git, *, force: bool, out: IO[str]) -> int:
    from migration_guard import template_files
    from migration_guard.git.worktree import WorkTree
    from migration_guard.projects import detect

    tree = WorkTree(git)
    projects = detect(tree.paths, tree.read)
    out.write(_detected(projects) + "\n")
    snippet = template_files.read(template_files.PRE_COMMIT)
    planned = [Planned(YAML_NAME, config_text(projects)), Planned(PRE_COMMIT_PATH, snippet),
               Planned(WORKFLOW_PATH, template_files.read(template_files.GITHUB_WORKFLOW))]
    written: list[str] = []
    for item in planned:
        target = tree.path(item.path)
        if item.path == YAML_NAME and _has_pyproject_config(tree.root):
            out.write(f"skipped {item.path}: {PYPROJECT_NAME} has a [tool.migration-guard] "
                      "section (both would be an error)\n")
            continue
        if os.path.lexists(target) and not force:
            out.write(f"skipped {item.path}: it exists (--force overwrites it)\n")
            if item.path == PRE_COMMIT_PATH:
                out.write("  add this entry under its `repos:`:\n")
                out.writelines(f"  {line}\n" for line in repos_entry(snippet))
            continue
        if os.path.islink(target):
            os.unlink(target)  # --force replaces the link, never writes through it
        tree.write(item.path, item.content)
        written.append(item.path)
        out.write(f"wrote {item.path}\n")
    out.write("next steps:\n")
    out.write("  pre-commit install --hook-type pre-commit --hook-type pre-push\n")
    if written:
        out.write(f"  git add {' '.join(written)}\n")
        out.write('  git commit -m "Guard database migrations with migration-guard"\n')
    out.write(f"  replace the forty zeros (rev: in {PRE_COMMIT_PATH}, @ in {WORKFLOW_PATH}) "
              "with a full commit SHA of migration-guard\n")
    return 0


def _detected(projects: Sequence[Project]) -> str:
    if not projects:
        return (f"detected no migrations project: list yours under `projects:` in {YAML_NAME}"
                " (see the commented example there)")
    count = f"{len(projects)} project" + ("s" if len(projects) > 1 else "")
    listed = ", ".join(f"{p.name} ({p.framework})" for p in projects)
    return f"detected {count}: {listed}"


def run(args: argparse.Namespace, environ: dict[str, str], out: IO[str]) -> int:
    from migration_guard.git.repo import Git

    git = Git.discover(os.path.abspath(args.directory), environ)
    return init(git, force=args.force, out=out)
