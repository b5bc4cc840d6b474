"""The ``new`` command: create a migration named the way the project's framework wants it,
ordered after every migration the project has (committed, staged or only on disk), with
its content from ``templates/sql``.

SQL frameworks only: Alembic writes its own revisions (ids, ``down_revision``), so for an
Alembic project the command prints the ``alembic revision`` command to run and exits 2.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from migration_guard.errors import GuardError
from migration_guard.frameworks import Version
from migration_guard.frameworks.newfile import Plan

if TYPE_CHECKING:  # the parser is built on every hook run: keep this module's imports light
    import argparse
    from datetime import datetime

    from migration_guard.git.repo import Git
    from migration_guard.git.worktree import WorkTree
    from migration_guard.projects import Project

SUMMARY = "create a correctly named and ordered migration from a template (SQL frameworks)"
PLACEHOLDER_TABLE = "example_items"
_NAME_HINT = "use letters, digits, spaces, - and _, e.g. migration-guard new add_orders"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser("new", help=SUMMARY, description=SUMMARY)
    sub.add_argument("name", metavar="NAME",
                     help="what the migration does, e.g. add_orders (letters, digits, spaces, "
                     "- and _; written in snake_case)")
    sub.add_argument("--project", help="the project (its name or migrations directory); "
                     "needed when the repository has several")
    sub.add_argument("--table", metavar="TABLE", help="start from the new-table template "
                     "(primary key, timestamps, RLS, comments) for TABLE")
    sub.add_argument("--config", help="config file (default .migration-guard.yaml or "
                     "[tool.migration-guard] in pyproject.toml)")
    sub.add_argument("-C", dest="directory", default=".",
                     help="run as if started in this directory")


def sanitize_name(raw: str) -> str:
    """``raw`` as the snake_case description part of a file name; odd names are refused."""
    text = re.sub(r"[\s-]+", "_", raw.strip()).lower()
    text = re.sub(r"_+", "_", text).strip("_")
    if not text:
        raise GuardError("the migration name is empty", _NAME_HINT)
    if not re.fullmatch(r"[a-z0-9_]+", text):
        raise GuardError(f"migration name {raw!r} has characters other than letters, digits, "
                         "spaces, - and _", _NAME_HINT)
    if len(text) > 100:
        raise GuardError(f"migration name is {len(text)} characters long",
                         "keep it under 100 characters: the file name shows it")
    return text


def _check_table(table: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", table):
        raise GuardError(f"table name {table!r} is not a lower-case SQL identifier",
                         "use lower-case letters, digits and _ (at most 63), e.g. --table orders")


def _bodies(table: str | None) -> tuple[str, str]:
    """The up and down SQL of the new migration."""
    from migration_guard import template_files

    if table is None:
        names = (template_files.SQL_MIGRATION, template_files.SQL_MIGRATION_DOWN)
    else:
        names = (template_files.SQL_CREATE_TABLE, template_files.SQL_CREATE_TABLE_DOWN)
    up, down = (template_files.body(template_files.read(n)) for n in names)
    if table is not None:
        up, down = up.replace(PLACEHOLDER_TABLE, table), down.replace(PLACEHOLDER_TABLE, table)
    return up, down


# -- the command -------------------------------------------------------------------------


def _choose(projects: Sequence[Project], name: str | None) -> Project:
    from migration_guard.projects import select

    if not projects:
        raise GuardError("no migrations project found in this repository",
                         "create the migrations directory with its first migration, or list "
                         "the project under `projects:` in .migration-guard.yaml")
    chosen = select(projects, name)
    if len(chosen) > 1:
        raise GuardError(f"this repository has {len(chosen)} migration projects: "
                         f"{', '.join(p.name for p in chosen)}",
                         "choose one with --project NAME")
    return chosen[0]


def _existing(git: Git, tree: WorkTree, project: Project) -> list[Version]:
    """Versions of every migration of the project: in HEAD, in the index, on disk."""
    prefix = project.migrations + "/"
    paths = set(git.ls_index([project.migrations]))
    head = git.head()
    if head is not None:
        paths |= set(git.ls_tree(head, [project.migrations]))
    paths |= {p for p in tree.paths if p.startswith(prefix)}
    fw = project.fw
    found = [fw.version(p[len(prefix):]) for p in paths if p.startswith(prefix)]
    return [v for v in found if v is not None and v.key]


def _alembic_refusal(project: Project, slug: str) -> GuardError:
    where = f" (in {project.root}/)" if project.root else ""
    return GuardError(
        f"{project.name} is an Alembic project: Alembic writes its own revisions "
        "(revision id, down_revision)",
        f'run: alembic revision -m "{slug}"{where}, or alembic revision --autogenerate '
        f'-m "{slug}" to draft it from the models')


def new(git: Git, raw_name: str, *, project_name: str | None, table: str | None,
        config_path: str | None, now: datetime, out: IO[str]) -> int:
    from migration_guard.config import load_config
    from migration_guard.git.worktree import WorkTree
    from migration_guard.projects import from_config

    slug = sanitize_name(raw_name)
    if table is not None:
        _check_table(table)
    tree = WorkTree(git)
    config = load_config(tree.read, config_path)
    project = _choose(from_config(config, tree.paths, tree.read), project_name)
    if project.fw.python:
        raise _alembic_refusal(project, slug)
    up, down = _bodies(table)
    plan = Plan(project.migrations, _existing(git, tree, project), slug, up, down, now,
                tree.read)
    writes = project.fw.new_migration(plan)
    for write in writes:
        if write.verb == "wrote" and os.path.lexists(tree.path(write.path)):
            raise GuardError(f"{write.path} exists", "choose another name")
    for write in writes:
        tree.write(write.path, write.content)
        out.write(f"{write.verb} {write.path}\n")
    return 0


def run(args: argparse.Namespace, environ: dict[str, str], out: IO[str]) -> int:
    from migration_guard.git.repo import Git

    git = Git.discover(os.path.abspath(args.directory), environ)
    from datetime import UTC, datetime

    return new(git, args.name, project_name=args.project, table=args.table,
               config_path=args.config, now=datetime.now(UTC), out=out)
