"""The ``init`` command: detect the repository's migration projects and write the config,
the pre-commit config and the CI job from ``templates/``: the GitHub Actions caller workflow,
and, where ``.gitlab-ci.yml`` exists, the GitLab job as a file of its own.

It writes files only (no ``git add``), at the repository root, and never overwrites one
without ``--force``; it never edits a user's file: for an existing ``.pre-commit-config.yaml``
it prints the entry to add, for ``.gitlab-ci.yml`` the ``include:`` line. Where the
installation names the commit it came from, the templates are pinned to it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from migration_guard.config import PYPROJECT_NAME, YAML_NAME
from migration_guard.errors import GuardError
from migration_guard.typing_lite import NamedTuple

if TYPE_CHECKING:  # the parser is built on every hook run: keep this module's imports light
    import argparse

    from migration_guard.git.repo import Git
    from migration_guard.git.worktree import WorkTree
    from migration_guard.projects import Project

SUMMARY = ("detect the migration projects and write .migration-guard.yaml, "
           ".pre-commit-config.yaml and a CI job (GitHub Actions; GitLab where "
           ".gitlab-ci.yml exists)")
PRE_COMMIT_PATH = ".pre-commit-config.yaml"
WORKFLOW_PATH = ".github/workflows/migration-guard.yml"
GITLAB_CI_PATH = ".gitlab-ci.yml"
GITLAB_JOB_PATH = ".gitlab/migration-guard.gitlab-ci.yml"
ZEROS = "0" * 40
_FULL_SHA = re.compile(r"[0-9a-f]{40}")
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
    """Write the files, then say what was done: a reader that stops early (``| head``)
    cannot leave a file unwritten."""
    from migration_guard.git.worktree import WorkTree
    from migration_guard.projects import detect

    tree = WorkTree(git)
    projects = detect(tree.paths, tree.read)
    commit = installed_commit()
    planned = _planned(tree.root, projects, commit)
    report = [_detected(projects)]
    written = [item.path for item in planned if _write(tree, item, force=force, report=report)]
    report.extend(_next_steps(tree.root, planned, written, commit))
    out.write("".join(line + "\n" for line in report))
    return 0


def _planned(root: str, projects: Sequence[Project], commit: str | None) -> list[Planned]:
    from migration_guard import template_files

    def pinned(name: str) -> str:
        return pin(template_files.read(name), commit)

    planned = [Planned(YAML_NAME, config_text(projects)),
               Planned(PRE_COMMIT_PATH, pinned(template_files.PRE_COMMIT))]
    gitlab = os.path.lexists(os.path.join(root, GITLAB_CI_PATH))
    if not gitlab or os.path.isdir(os.path.join(root, ".github")):
        planned.append(Planned(WORKFLOW_PATH, pinned(template_files.GITHUB_WORKFLOW)))
    if gitlab:
        planned.append(Planned(GITLAB_JOB_PATH, pinned(template_files.GITLAB_CI)))
    return planned


def _write(tree: WorkTree, item: Planned, *, force: bool, report: list[str]) -> bool:
    """Write one planned file unless it must be left alone; say which, in ``report``."""
    target = tree.path(item.path)
    if item.path == YAML_NAME and _has_pyproject_config(tree.root):
        report.append(f"skipped {item.path}: {PYPROJECT_NAME} has a [tool.migration-guard] "
                      "section (both would be an error)")
        return False
    if os.path.lexists(target) and not force:
        report.append(f"skipped {item.path}: it exists (--force overwrites it)")
        if item.path == PRE_COMMIT_PATH:
            report.append("  add this entry under its `repos:`:")
            report.extend(f"  {line}" for line in repos_entry(item.content))
        return False
    if os.path.islink(target):
        os.unlink(target)  # --force replaces the link, never writes through it
    tree.write(item.path, item.content)
    report.append(f"wrote {item.path}")
    return True


_PIN_PLACES = {PRE_COMMIT_PATH: "rev:", WORKFLOW_PATH: "@", GITLAB_JOB_PATH: "MIGRATION_GUARD_REF"}


def _next_steps(root: str, planned: Sequence[Planned], written: Sequence[str],
                commit: str | None) -> list[str]:
    lines = ["next steps:", "  pre-commit install --hook-type pre-commit --hook-type pre-push"]
    if any(item.path == GITLAB_JOB_PATH for item in planned):
        lines.append(f"  add the job to {GITLAB_CI_PATH} (init does not edit it):")
        lines.extend(["    include:", f"      - local: {GITLAB_JOB_PATH}"])
        lines.extend(_stage_advice(root))
    if written:
        lines.append(f"  git add {' '.join(written)}")
        lines.append('  git commit -m "Guard database migrations with migration-guard"')
    places = ", ".join(f"{_PIN_PLACES[item.path]} in {item.path}" for item in planned
                       if item.path in _PIN_PLACES)
    if commit is None:
        lines.append(f"  replace the forty zeros ({places}) with a full commit SHA of "
                     "migration-guard")
    else:
        lines.append(f"  pinned to {commit}, the migration-guard commit installed here "
                     f"({places}): keep it, or choose a release's commit")
    return lines


def _stage_advice(root: str) -> list[str]:
    """The job has no ``stage:`` (GitLab's default is ``test``): a pipeline whose own
    ``stages:`` lack ``test`` needs one named, or GitLab refuses the pipeline."""
    import yaml

    try:
        with open(os.path.join(root, GITLAB_CI_PATH), encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # GitLab's own tags (!reference) are not YAML this reader knows
    stages = document.get("stages") if isinstance(document, dict) else None
    if not isinstance(stages, list) or "test" in stages or not stages:
        return []
    named = ", ".join(map(str, stages))
    return [f"  {GITLAB_CI_PATH} has no test stage: add `stage: <one of {named}>` to the job "
            f"in {GITLAB_JOB_PATH}"]


def pin(template: str, commit: str | None) -> str:
    """``template`` with its placeholder pins (``rev: "<zeros>"``, ``@<zeros>``,
    ``MIGRATION_GUARD_REF: "<zeros>"``) set to ``commit``; unchanged without one."""
    if commit is None:
        return template
    return template.replace(f'"{ZEROS}"', f'"{commit}"').replace(f"@{ZEROS}", f"@{commit}")


def installed_commit() -> str | None:
    """The commit of migration-guard this one was installed from, when the installation
    says (PEP 610's ``direct_url.json``): ``vcs_info.commit_id`` for ``pip install
    git+URL@REF``; for an install from a directory (``pip install .``, pre-commit's clone),
    that directory's ``HEAD`` when it is the top of a git work tree with no uncommitted
    change to tracked files. None otherwise (a release from an index names no commit)."""
    import json
    from importlib import metadata

    try:
        text = metadata.distribution("migration-guard").read_text("direct_url.json")
        data = json.loads(text) if text else None
    except (metadata.PackageNotFoundError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        return commit if isinstance(commit, str) and _FULL_SHA.fullmatch(commit) else None
    url = data.get("url")
    if isinstance(url, str) and url.startswith("file://") and "dir_info" in data:
        from urllib.parse import unquote, urlparse

        return _clean_head(unquote(urlparse(url).path))
    return None


def _clean_head(directory: str) -> str | None:
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-C", directory, *args], capture_output=True,
                                  text=True, env=env, check=False, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if top is None or os.path.realpath(top) != os.path.realpath(directory):
        return None
    if git("status", "--porcelain", "--untracked-files=no") != "":
        return None
    head = git("rev-parse", "--verify", "HEAD^{commit}")
    return head if head is not None and _FULL_SHA.fullmatch(head) else None


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
