"""The ``new`` command: create a migration named the way the project's framework wants it,
ordered after every migration the project has (committed, staged or only on disk), with
its content from ``templates/sql``.

SQL frameworks only: Alembic writes its own revisions (ids, ``down_revision``), so for an
Alembic project the command prints the ``alembic revision`` command to run and exits 2.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from migration_guard.errors import GuardError
from migration_guard.frameworks import Version

if TYPE_CHECKING:  # the parser is built on every hook run: keep this module's imports light
    from datetime import datetime

    from migration_guard.commands.worktree import WorkTree
    from migration_guard.gitrepo import Git
    from migration_guard.projects import Project

SUMMARY = "create a correctly named and ordered migration from a template (SQL frameworks)"
STAMP = "%Y%m%d%H%M%S"
PLACEHOLDER_TABLE = "example_items"
BREAKPOINT = "--> statement-breakpoint"
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


class Write(NamedTuple):
    path: str  # repository-relative
    content: str
    verb: str = "wrote"


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


# -- versions ---------------------------------------------------------------------------


def _leading_digits(version: Version) -> str:
    match = re.match(r"\d+", version.text)
    return match.group() if match else ""


def _style(versions: Sequence[Version], default: str, *, unix: bool = False) -> str:
    """How the newest migration's version reads: "timestamp", "unix" or "sequence"."""
    if not versions:
        return default
    digits = _leading_digits(max(versions, key=lambda v: v.key))
    if len(digits) == 14:
        return "timestamp"
    if unix and len(digits) == 10:
        return "unix"
    return "sequence"


def _newest(versions: Sequence[Version]) -> int:
    return max((int(v.key[0]) for v in versions if v.key), default=0)


def next_version(versions: Sequence[Version], style: str, now: datetime, width: int) -> str:
    """A version after every one in ``versions``, written in ``style``."""
    newest = _newest(versions)
    if style == "timestamp":
        stamp = now.strftime(STAMP)
        if int(stamp) > newest:
            return stamp
        from datetime import datetime, timedelta

        try:
            return (datetime.strptime(str(newest), STAMP) + timedelta(seconds=1)).strftime(STAMP)
        except ValueError:
            return str(newest + 1)
    if style == "unix":
        return str(max(int(now.timestamp()), newest + 1))
    if versions:
        width = len(_leading_digits(max(versions, key=lambda v: v.key)))
    return str(newest + 1).zfill(width)


# -- one planner per framework ------------------------------------------------------------


class Plan(NamedTuple):
    project: Project
    versions: list[Version]
    slug: str
    up: str
    down: str
    now: datetime
    tree: WorkTree

    def at(self, rel: str) -> str:
        return f"{self.project.migrations}/{rel}"


def _supabase(plan: Plan) -> list[Write]:
    version = next_version(plan.versions, "timestamp", plan.now, 14)
    return [Write(plan.at(f"{version}_{plan.slug}.sql"), plan.up)]


def _prisma(plan: Plan) -> list[Write]:
    version = next_version(plan.versions, "timestamp", plan.now, 14)
    return [Write(plan.at(f"{version}_{plan.slug}/migration.sql"), plan.up)]


def _dbmate(plan: Plan) -> list[Write]:
    version = next_version(plan.versions, _style(plan.versions, "timestamp"), plan.now, 14)
    content = f"-- migrate:up\n{plan.up}\n-- migrate:down\n{plan.down}"
    return [Write(plan.at(f"{version}_{plan.slug}.sql"), content)]


def _golang(plan: Plan) -> list[Write]:
    style = _style(plan.versions, "sequence", unix=True)
    version = next_version(plan.versions, style, plan.now, 6)
    return [Write(plan.at(f"{version}_{plan.slug}.up.sql"), plan.up),
            Write(plan.at(f"{version}_{plan.slug}.down.sql"), plan.down)]


def _flyway(plan: Plan) -> list[Write]:
    version = next_version(plan.versions, _style(plan.versions, "sequence"), plan.now, 1)
    return [Write(plan.at(f"V{version}__{plan.slug}.sql"), plan.up)]


def _plain(plan: Plan) -> list[Write]:
    version = next_version(plan.versions, _style(plan.versions, "sequence"), plan.now, 4)
    return [Write(plan.at(f"{version}_{plan.slug}.sql"), plan.up)]


def _with_breakpoints(sql: str) -> str:
    """Drizzle's file format: a breakpoint line after each statement but the last."""
    lines = sql.splitlines()
    out: list[str] = []
    for number, line in enumerate(lines):
        out.append(line)
        later = [x for x in lines[number + 1:] if x.strip() and not x.lstrip().startswith("--")]
        if line.rstrip().endswith(";") and later:
            out.append(BREAKPOINT)
    return "\n".join(out) + "\n"


def _json_layout(text: str) -> tuple[str, str]:
    """The indent and final newline of a JSON file, to write it back the same way."""
    match = re.search(r"\n([ \t]+)\S", text)
    return (match.group(1) if match else "  "), ("\n" if text.endswith("\n") else "")


def _load_json(tree: WorkTree, rel: str) -> tuple[Any, str, str] | None:
    import json

    data = tree.read(rel)
    if data is None:
        return None
    try:
        text = data.decode("utf-8-sig")
        return (json.loads(text), *_json_layout(text))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GuardError(f"{rel}: cannot read it: {exc}",
                         "fix or regenerate it (drizzle-kit generate), then run new again"
                         ) from None


def _dump_json(document: Any, indent: str, newline: str) -> str:
    import json

    return json.dumps(document, indent=indent, ensure_ascii=False) + newline


def _drizzle(plan: Plan) -> list[Write]:
    import uuid

    journal_rel = plan.at("meta/_journal.json")
    loaded = _load_json(plan.tree, journal_rel)
    journal, indent, newline = loaded or ({"version": "7", "dialect": "postgresql",
                                           "entries": []}, "  ", "")
    entries = journal.get("entries") if isinstance(journal, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise GuardError(f'{journal_rel}: no "entries" list of objects',
                         "restore the journal from git, or regenerate it with drizzle-kit")
    last: dict[str, Any] = entries[-1] if entries else {}
    idx = max((int(e.get("idx", 0)) for e in entries), default=-1) + 1
    tags = [Version((int(m.group()),), m.group()) for e in entries
            if (m := re.match(r"\d+", str(e.get("tag", ""))))]
    style = _style(tags, "sequence", unix=True)
    if style == "sequence":
        prefix = str(max(idx, _newest(plan.versions) + 1)).zfill(4)
    else:
        prefix = next_version([*tags, *plan.versions], style, plan.now, 14)
    tag = f"{prefix}_{plan.slug}"
    when = max(int(plan.now.timestamp() * 1000),
               max((int(e.get("when", 0)) for e in entries), default=0) + 1)
    entries.append({"idx": idx, "version": str(last.get("version", journal.get("version", "7"))),
                    "when": when, "tag": tag, "breakpoints": last.get("breakpoints", True)})
    from migration_guard.frameworks.drizzle import template_body

    up = template_body(plan.up)
    sql = _with_breakpoints(up) if entries[-1]["breakpoints"] else up
    writes = [Write(plan.at(f"{tag}.sql"), sql)]
    previous = re.match(r"\d+", str(last.get("tag", "")))
    snapshot = _load_json(plan.tree, plan.at(f"meta/{previous.group()}_snapshot.json")) \
        if previous else None
    if snapshot is not None and isinstance(snapshot[0], dict):
        # What drizzle-kit generate --custom does: the schema is unchanged as far as
        # drizzle-kit knows, so the new snapshot is the previous one with new ids.
        document, snap_indent, snap_newline = snapshot
        document = {**document, "id": str(uuid.uuid4()), "prevId": document.get("id")}
        writes.append(Write(plan.at(f"meta/{prefix}_snapshot.json"),
                            _dump_json(document, snap_indent, snap_newline)))
    writes.append(Write(journal_rel, _dump_json(journal, indent, newline),
                        "updated" if loaded is not None else "wrote"))
    return writes


PLANNERS: dict[str, Callable[[Plan], list[Write]]] = {
    "supabase": _supabase, "prisma": _prisma, "dbmate": _dbmate, "golang-migrate": _golang,
    "flyway": _flyway, "sql": _plain, "drizzle": _drizzle,
}


# -- the command -------------------------------------------------------------------------


def _choose(projects: Sequence[Project], name: str | None) -> Project:
    from migration_guard.commands.projects import select

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
    from migration_guard.commands.worktree import WorkTree
    from migration_guard.config import load_config
    from migration_guard.projects import from_config

    slug = sanitize_name(raw_name)
    if table is not None:
        _check_table(table)
    tree = WorkTree(git)
    config = load_config(tree.read, config_path)
    project = _choose(from_config(config, tree.paths, tree.read), project_name)
    if project.framework == "alembic":
        raise _alembic_refusal(project, slug)
    up, down = _bodies(table)
    plan = Plan(project, _existing(git, tree, project), slug, up, down, now, tree)
    writes = PLANNERS[project.framework](plan)
    for write in writes:
        if write.verb == "wrote" and os.path.lexists(tree.path(write.path)):
            raise GuardError(f"{write.path} exists", "choose another name")
    for write in writes:
        tree.write(write.path, write.content)
        out.write(f"{write.verb} {write.path}\n")
    return 0


def run(args: argparse.Namespace, git: Git, out: IO[str]) -> int:
    from datetime import UTC, datetime

    return new(git, args.name, project_name=args.project, table=args.table,
               config_path=args.config, now=datetime.now(UTC), out=out)
