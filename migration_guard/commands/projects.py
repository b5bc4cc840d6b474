"""The ``projects`` command: the migration projects a run would check, configured or
detected, as text or as one line of JSON a CI job can turn into a job matrix.

Projects are read from the index, as ``check`` reads them by default (in CI, a clean
checkout: the index is the commit). JSON shape, one line::

    {"include": [{"name": ..., "framework": ..., "root": ..., "migrations": ...,
                  "alembic_ini": ... | null, "schema": [...], "schema_from": ...,
                  "pg_version": ... | null}]}

``root`` is the directory the framework's own commands run in (``.`` for the repository
root); ``pg_version`` is the configured major (``postgres.version``, a lint
``pg_version``), else null.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from migration_guard.typing_lite import NamedTuple

if TYPE_CHECKING:  # the parser is built on every hook run: keep this module's imports light
    import argparse

    from migration_guard.config import Config
    from migration_guard.git.changeset import Snapshot
    from migration_guard.git.repo import Git
    from migration_guard.projects import Project

SUMMARY = "list the migration projects (configured or detected), e.g. for a CI job matrix"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser("projects", help=SUMMARY, description=SUMMARY)
    sub.add_argument("--format", choices=("text", "json"), default="text",
                     help="output format (default text; json is one line: "
                     '{"include": [...]}, a GitHub Actions matrix)')
    sub.add_argument("--config", help="config file (default .migration-guard.yaml or "
                     "[tool.migration-guard] in pyproject.toml)")
    sub.add_argument("-C", dest="directory", default=".",
                     help="run as if started in this directory")


class Listed(NamedTuple):
    project: Project
    schema: tuple[str, ...]
    schema_from: str
    pg_version: int | None


def list_projects(git: Git, config_path: str | None) -> list[Listed]:
    from migration_guard.config import load_config
    from migration_guard.git.changeset import Snapshot
    from migration_guard.projects import from_config

    index = Snapshot(git, None, "the index")
    config = load_config(index.read, config_path)
    projects = from_config(config, list(index.files), index.read, index.read_many,
                           links=index.symbolic_links())
    return [_listed(p, index, config) for p in projects]


def _listed(project: Project, index: Snapshot, config: Config) -> Listed:
    schema, origin = project.schema, project.schema_from
    if schema is None:  # Alembic: the modules behind env.py's target_metadata
        schema, origin = (), "no schema source"
        if project.env_py is not None:
            from migration_guard.frameworks.alembic_env import schema_sources

            globs, origin = schema_sources(project.env_py, list(project.module_roots),
                                           set(index.files), index.read)
            schema = tuple(globs)
    settings = dict(config.lint)
    if project.config is not None:
        settings.update(project.config.lint)
    version = settings.get("pg_version", config.pg_version)
    return Listed(project, schema, origin, version if isinstance(version, int) else None)


def _as_dict(item: Listed) -> dict[str, Any]:
    p = item.project
    return {"name": p.name, "framework": p.framework, "root": p.root or ".",
            "migrations": p.migrations, "alembic_ini": p.alembic_ini,
            "schema": list(item.schema), "schema_from": item.schema_from,
            "pg_version": item.pg_version}


def render_json(found: Sequence[Listed], out: IO[str]) -> None:
    out.write(json.dumps({"include": [_as_dict(i) for i in found]}, ensure_ascii=False,
                         separators=(",", ":")) + "\n")


def render_text(found: Sequence[Listed], out: IO[str]) -> None:
    if not found:  # from_config exits 2 unless the config says so
        out.write("no migrations project: `projects: []` in .migration-guard.yaml\n")
        return
    for item in found:
        p = item.project
        lines = [p.name, f"  framework: {p.framework}", f"  root: {p.root or '.'}",
                 f"  migrations: {p.migrations}"]
        if p.alembic_ini is not None:
            lines.append(f"  alembic_ini: {p.alembic_ini}")
        schema = ", ".join(item.schema) or "none"
        lines.append(f"  schema: {schema} ({item.schema_from})")
        if item.pg_version is not None:
            lines.append(f"  pg_version: {item.pg_version}")
        out.write("\n".join(lines) + "\n")


def run(args: argparse.Namespace, environ: dict[str, str], out: IO[str]) -> int:
    from migration_guard.git.repo import Git

    git = Git.discover(os.path.abspath(args.directory), environ)
    found = list_projects(git, args.config)
    (render_json if args.format == "json" else render_text)(found, out)
    return 0
