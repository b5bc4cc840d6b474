"""What the throwaway server must offer a project: its major, the extensions the migrations
create, and a framework's server-side preset (with stand-ins for platform extensions).

Extensions are found with a cheap scan for ``CREATE EXTENSION`` confirmed by pglast on the
statements that mention it, so a name in a comment or a string does not count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from migration_guard.apply.settings import Settings
from migration_guard.apply.sources import Unit, decode
from migration_guard.db.base import Wants
from migration_guard.frameworks import SERVER_PRESETS
from migration_guard.projects import Project
from migration_guard.typing_lite import NamedTuple

PRESET_PATH = "migration-guard:preset"
_MENTIONS = re.compile(r"\bextension\b", re.IGNORECASE)
_NEUTRAL = "SELECT 'stand-in for extension {name}'"


class Preset(NamedTuple):
    """A framework's server-side setup for one run."""

    name: str
    roles_sql: str  # cluster-wide: run by the server's own administrator
    unit: Unit  # database-level: run first in every database, as the migrations' role
    preinstalled: tuple[str, ...]
    platform_extensions: tuple[str, ...]
    stand_ins: tuple[str, ...]


def preset_for(project: Project, settings: Settings) -> Preset | None:
    chosen = settings.postgres.preset
    if chosen == "auto":
        chosen = project.framework if project.framework in SERVER_PRESETS else "none"
    if chosen == "none":
        return None
    from migration_guard.frameworks import supabase_preset as preset

    stand_ins = settings.postgres.stand_ins
    return Preset(chosen, preset.roles_sql(),
                  Unit(f"{PRESET_PATH}:{chosen}", preset.database_sql(stand_ins)),
                  preset.PREINSTALLED, preset.PLATFORM_EXTENSIONS, stand_ins)


def wants_for(settings: Settings, units: Iterable[Unit], preset: Preset | None) -> Wants:
    needed = extensions_created(units)
    if preset is not None:
        needed = (needed | set(preset.preinstalled)) - set(preset.stand_ins)
    postgres = settings.postgres
    return Wants(major=postgres.version, strict=postgres.strict,
                 extensions=frozenset(needed), url_role=postgres.url_role)


def platform_hint(wants: Wants, preset: Preset | None) -> str:
    """How to get the extensions needed that only the preset's platform ships ("" when
    there are none)."""
    if preset is None:
        return ""
    names = sorted(wants.extensions & set(preset.platform_extensions))
    if not names:
        return ""
    from migration_guard.frameworks import supabase_preset

    return supabase_preset.platform_hint(names)


def extensions_in_python(files: Mapping[str, bytes]) -> set[str]:
    """Extensions Python migrations create: the SQL in their string literals (what
    ``op.execute("CREATE EXTENSION ...")`` runs), read as SQL is read."""
    import ast

    units: list[Unit] = []
    for path, data in files.items():
        if b"xtension" not in data and b"XTENSION" not in data:
            continue
        try:
            tree = ast.parse(data, path)
        except (SyntaxError, ValueError):
            continue  # applying it reports the error at its line
        units += [Unit(path, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and _MENTIONS.search(node.value)]
    return extensions_created(units)


def extensions_created(units: Iterable[Unit]) -> set[str]:
    names: set[str] = set()
    for unit in units:
        if _MENTIONS.search(unit.text):
            names |= {name for name, _ in _extension_statements(unit.text)}
    return names


def _extension_statements(text: str) -> list[tuple[str, slice]]:
    """(extension, statement slice) of each ``CREATE``/``DROP``/``COMMENT ON EXTENSION``."""
    from pglast import parser

    try:
        slices = parser.split(text, with_parser=True, only_slices=True)
    except (parser.ParseError, UnicodeError):
        return []
    found: list[tuple[str, slice]] = []
    for piece in slices:
        if not _MENTIONS.search(text[piece]):
            continue
        try:
            tree = json.loads(parser.parse_sql_json(text[piece]))
        except (parser.ParseError, UnicodeError):
            continue
        for raw in tree.get("stmts", []):
            name = _extension_of(raw.get("stmt", {}))
            if name is not None:
                found.append((name, piece))
    return found


def _extension_of(node: Mapping[str, Any]) -> str | None:
    if "CreateExtensionStmt" in node:
        return str(node["CreateExtensionStmt"]["extname"])
    for kind in ("DropStmt", "CommentStmt"):
        body = node.get(kind)
        if body is not None and (body.get("removeType") or body.get("objtype")) \
                == "OBJECT_EXTENSION":
            target = body.get("objects", [body.get("object")])[0]
            value = target.get("String", {}).get("sval") if isinstance(target, dict) else None
            return str(value) if value else None
    return None


def with_stand_ins(unit: Unit, stand_ins: Iterable[str]) -> Unit:
    """``unit`` with its statements on stand-in extensions replaced by a no-op of the same
    line count (the stand-in's objects exist already: the preset made them)."""
    names = set(stand_ins)
    if not names or not _MENTIONS.search(unit.text):
        return unit
    text = unit.text
    for name, piece in reversed(_extension_statements(text)):
        if name in names:
            original = text[piece]
            text = text[:piece.start] + _NEUTRAL.format(name=name) \
                + "\n" * original.count("\n") + text[piece.stop:]
    return unit._replace(text=text)


def read_seed(project: Project, files: Iterable[str], read_many: Any) -> list[Unit]:
    """The preset's seed files that exist in the snapshot, in the CLI's order."""
    from migration_guard.apply.sources import matching
    from migration_guard.frameworks.supabase_preset import seed_globs

    config_path = f"{project.migrations.rpartition('/')[0]}/config.toml".lstrip("/")
    config = read_many([config_path]).get(config_path)
    paths: list[str] = []
    for pattern in seed_globs(project.migrations, config):
        paths += [p for p in matching(files, [pattern]) if p not in paths]
    blobs = read_many(paths)
    return [Unit(p, decode(blobs[p])) for p in paths if p in blobs]
