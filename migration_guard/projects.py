"""Projects: which migration directories a repository has, by detection or by config.

Detection reads only the snapshot's file list plus a few small files (``alembic.ini``,
``drizzle.config.*``, ``flyway.conf``): it works from the index or a commit, never the
working tree, and costs a few milliseconds on a 10,000-file repository.
"""

# Annotations are evaluated, not postponed (no `from __future__ import annotations`):
# typing.NamedTuple compiles each string annotation, ~3 ms of every hook run.

import posixpath
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from migration_guard import frameworks
from migration_guard.config import Config, ProjectConfig
from migration_guard.errors import GuardError
from migration_guard.gitrepo import Entry

Reader = Callable[[str], bytes | None]


class Project(NamedTuple):
    name: str
    framework: str
    migrations: str  # repository-relative directory holding the migration files
    schema: tuple[str, ...] | None  # globs; None: resolve from env.py when needed
    schema_from: str  # where the schema globs came from, for messages
    exclude: tuple[str, ...]
    allow_out_of_order: bool
    generate_command: str
    root: str  # the directory the framework's commands run in
    alembic_ini: str | None = None
    env_py: str | None = None
    module_roots: tuple[str, ...] = ()
    config: ProjectConfig | None = None  # the config entry it came from; None if detected
    framework_config: str | None = None  # the framework's own config file (drizzle.config.*)
    notes: tuple[str, ...] = ()  # what detection could not find, said in every check's output

    def rel(self, path: str) -> str | None:
        """``path`` relative to the migrations directory, or None when outside it."""
        prefix = self.migrations + "/"
        return path[len(prefix):] if path.startswith(prefix) else None

    def inside(self, files: dict[str, Entry]) -> dict[str, Entry]:
        """The entries of ``files`` below the migrations directory."""
        prefix = self.migrations + "/"
        return {p: e for p, e in files.items() if p.startswith(prefix)}

    @property
    def fw(self) -> frameworks.Framework:
        return frameworks.get(self.framework)


def _dirname(path: str) -> str:
    return posixpath.dirname(path)


def _join(*parts: str) -> str:
    joined = posixpath.normpath(posixpath.join(*[p for p in parts if p]))
    return "" if joined == "." else joined


def _text(read: Reader, path: str) -> str:
    data = read(path)
    return data.decode("utf-8-sig", errors="replace") if data is not None else ""


# -- one detector per framework family ------------------------------------------------


def _alembic_projects(paths: list[str], read: Reader) -> list[Project]:
    found: list[Project] = []
    for ini in (p for p in paths if p == "alembic.ini" or p.endswith("/alembic.ini")):
        import configparser  # ~1.5 ms: only where there is an alembic.ini

        here = _dirname(ini)
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(_text(read, ini), source=ini)
        except configparser.Error as exc:
            raise GuardError(f"{ini}: cannot parse: {exc}", "fix alembic.ini") from None
        section = "alembic"
        location = parser.get(section, "script_location", fallback="").strip()
        if not location or ":" in location.replace("%(here)s", ""):
            continue  # a package resource location cannot be read from the tree
        script_dir = _join(here, location.replace("%(here)s", "."))
        versions = parser.get(section, "version_locations", fallback="").strip()
        versions_dir = (
            _join(here, re.split(r"[\s,;:]+", versions.replace("%(here)s", "."))[0])
            if versions else _join(script_dir, "versions")
        )
        prepend = parser.get(section, "prepend_sys_path", fallback=".").strip()
        roots = [_join(here, p) for p in re.split(r"[\s,:;]+", prepend) if p]
        command = ALEMBIC_COMMAND if here == "" else f"{ALEMBIC_COMMAND} (in {here}/)"
        found.append(Project(
            name=versions_dir, framework="alembic", migrations=versions_dir, schema=None,
            schema_from="", exclude=(), allow_out_of_order=False, generate_command=command,
            root=here, alembic_ini=ini, env_py=_join(script_dir, "env.py"),
            module_roots=tuple(dict.fromkeys([*roots, here, "", "src"])),
        ))
    return found


ALEMBIC_COMMAND = frameworks.get("alembic").generate_command
# Patterns are compiled on first use (re caches them): most repositories need few of them.
_DRIZZLE_OUT = r"""\bout\s*:\s*["'`]([^"'`]+)["'`]"""
_DRIZZLE_SCHEMA = r"""\bschema\s*:\s*(\[[^\]]*\]|["'`][^"'`]+["'`])"""
_QUOTED = r"""["'`]([^"'`]+)["'`]"""


def _drizzle_projects(paths: list[str], read: Reader, packages: Iterable[str] = (),
                      all_paths: list[str] | None = None) -> list[Project]:
    """Drizzle projects; ``out`` and ``schema`` resolve as drizzle-kit resolves them:
    against the directory it runs in (see :func:`_drizzle_run_dir`)."""
    from migration_guard.frameworks.drizzle import missing_paths, run_directory

    configs: dict[str, tuple[str, str, str]] = {}  # migrations dir -> (config, text, run dir)
    package_dirs = {_dirname(p) for p in packages}
    for cfg in (p for p in paths if "drizzle.config." in p and re.fullmatch(
            r"drizzle\.config\.[cm]?[jt]s|drizzle\.config\.json", posixpath.basename(p))):
        text = _text(read, cfg)
        run_dir = run_directory(cfg, package_dirs, read)
        out = re.search(_DRIZZLE_OUT, text)
        configs[_join(run_dir, out.group(1) if out else "drizzle")] = (cfg, text, run_dir)
    found: list[Project] = []
    dirs = {_dirname(_dirname(p)) for p in paths if p.endswith("/meta/_journal.json")}
    for migrations in sorted(dirs | set(configs)):
        schema: tuple[str, ...] = ()
        source = "no schema in drizzle.config"
        cfg, text, run_dir = configs.get(migrations, ("", "", _dirname(migrations)))
        if cfg:
            match = re.search(_DRIZZLE_SCHEMA, text)
            if match:
                schema = tuple(_join(run_dir, g) for g in re.findall(_QUOTED, match.group(1)))
                source = f"schema in {cfg}"
        command = frameworks.get("drizzle").generate_command
        if cfg and run_dir:
            command += f" (in {run_dir}/)"
        notes = missing_paths(all_paths if all_paths is not None else paths, run_dir,
                               migrations, schema) if cfg else ()
        found.append(Project(
            migrations, "drizzle", migrations, schema, source, (), False, command, run_dir,
            framework_config=cfg or None, notes=notes,
        ))
    return found


def _prisma_projects(paths: list[str]) -> list[Project]:
    dirs: set[str] = set()
    # The cheap suffix tests first: most of a large repository's .sql files are not Prisma's.
    for path in paths:
        match = re.fullmatch(r"(?:(.*)/)?migrations/\d{14}_[^/]+/migration\.sql", path) \
            if path.endswith("/migration.sql") else None
        if match:
            dirs.add(_join(match.group(1) or "", "migrations"))
    for path in paths:
        if path == "schema.prisma" or path.endswith("/schema.prisma"):
            dirs.add(_join(_dirname(path), "migrations"))
    found = []
    present = set(paths)
    for migrations in sorted(dirs):
        parent = _dirname(migrations)
        schema = tuple(g for g in (_join(parent, "schema.prisma"), _join(parent, "schema/*.prisma"))
                       if g in present or g.endswith("*.prisma"))
        found.append(Project(
            migrations, "prisma", migrations, schema, f"Prisma schema in {parent or '.'}/", (),
            False, frameworks.get("prisma").generate_command, _dirname(parent),
        ))
    return found


def _supabase_projects(paths: list[str]) -> list[Project]:
    roots = set()
    for path in paths:
        match = re.match(r"(?:(.*)/)?supabase/(?:migrations/[^/]+\.sql|config\.toml)$", path) \
            if "supabase/" in path else None
        if match:
            roots.add(_join(match.group(1) or "", "supabase"))
    found = []
    for root in sorted(roots):
        schemas_dir = _join(root, "schemas")
        has_schemas = any(p.startswith(schemas_dir + "/") and p.endswith(".sql") for p in paths)
        schema = (f"{schemas_dir}/**/*.sql",) if has_schemas else ()
        found.append(Project(
            _join(root, "migrations"), "supabase", _join(root, "migrations"), schema,
            f"declarative schemas in {schemas_dir}/" if has_schemas else "no supabase/schemas/",
            (), False, frameworks.get("supabase").generate_command, _dirname(root),
        ))
    return found


_FLYWAY_NAME = r"(?:[VU]\d+(?:[._]\d+)*|R)__.+\.sql"
_GOLANG_NAME = r"\d+_.+\.(?:up|down)\.sql"
_PLAIN_DIR = r"(?:.*/)?(?:migrations?|migrate|schema_migrations)"


def _sql_dir_projects(paths: list[str], claimed: list[str], read: Reader) -> list[Project]:
    by_dir: dict[str, list[str]] = {}
    for path in paths:
        if path.endswith(".sql"):
            directory, _, name = path.rpartition("/")
            by_dir.setdefault(directory, []).append(name)
    prefixes = tuple(c + "/" for c in claimed)
    by_dir = {d: names for d, names in by_dir.items()
              if d not in claimed and not (d + "/").startswith(prefixes)}
    found: list[Project] = []
    flyway_dirs: list[str] = []
    for directory in sorted(by_dir):
        names = by_dir[directory]
        if any(directory.startswith(d + "/") for d in flyway_dirs):
            continue
        if any(n.startswith(("V", "U", "R")) and re.fullmatch(_FLYWAY_NAME, n) for n in names):
            framework = "flyway"
            flyway_dirs.append(directory)
        elif sum(n.endswith(("up.sql", "down.sql")) and bool(re.fullmatch(_GOLANG_NAME, n))
                 for n in names) * 2 > len(names):
            framework = "golang-migrate"
        elif re.fullmatch(_PLAIN_DIR, directory):
            first = sorted(names)[0]
            framework = "dbmate" if "-- migrate:up" in _text(read, f"{directory}/{first}") \
                else "sql"
        else:
            continue
        fw = frameworks.get(framework)
        found.append(Project(directory, framework, directory, (), "no schema source", (), False,
                             fw.generate_command, _dirname(directory)))
    return found


_RELEVANT = (".sql", "alembic.ini", "/_journal.json", ".prisma", "supabase/config.toml",
             ".ts", ".js", ".mjs", ".cjs", ".json")


def detect(
    all_paths: list[str], read: Reader, prefetch: Callable[[list[str]], object] | None = None
) -> list[Project]:
    """Every migrations project found in the snapshot's file list."""
    # One C-speed pass drops the bulk of a large repository before any regex runs.
    paths = [p for p in all_paths if p.endswith(_RELEVANT)
             and (not p.endswith((".ts", ".js", ".mjs", ".cjs", ".json"))
                  or "drizzle.config." in p or p.endswith("/_journal.json"))]
    # Read the few small files detection looks at through one batch.
    small = [p for p in paths if p.endswith(("alembic.ini", ".ts", ".js", ".mjs", ".cjs",
                                              ".json"))]
    if prefetch is not None:
        prefetch(small)
    found = _alembic_projects(paths, read)
    packages = [p for p in all_paths if p.endswith("package.json")] \
        if any("drizzle.config." in p for p in paths) else []
    found += _drizzle_projects(paths, read, packages, all_paths)
    found += _prisma_projects(paths)
    found += _supabase_projects(paths)
    claimed = [p.migrations for p in found]
    found += _sql_dir_projects(paths, claimed, read)
    return sorted(found, key=lambda p: p.migrations)


def _classify(directory: str, paths: list[str], read: Reader) -> str | None:
    inside = [p for p in paths if p.startswith(directory + "/")]
    for project in detect(inside, read):
        if project.migrations == directory:
            return project.framework
    return None


def from_config(
    config: Config, paths: list[str], read: Reader,
    prefetch: Callable[[list[str]], object] | None = None,
) -> list[Project]:
    """The projects the config names, completed by detection; detection alone without one."""
    detected = detect(paths, read, prefetch)
    if config.projects is None:
        return detected
    projects = [_configured(pc, detected, paths, read, config.source or "")
                for pc in config.projects]
    names = [p.name for p in projects]
    for name in names:
        if names.count(name) > 1:
            raise GuardError(f"{config.source}: two projects are named '{name}'",
                             "give each project a distinct name")
    return projects


def _configured(
    pc: ProjectConfig, detected: Iterable[Project], paths: list[str], read: Reader, source: str
) -> Project:
    where = f"{source}:{pc.line}"
    match: Project | None = None
    for candidate in detected:
        if pc.alembic_ini and candidate.alembic_ini != pc.alembic_ini:
            continue
        if pc.migrations and candidate.migrations != pc.migrations:
            continue
        if pc.framework and candidate.framework != pc.framework:
            continue
        match = candidate
        break
    if pc.alembic_ini and match is None:
        match = next(iter(_alembic_projects([pc.alembic_ini], read)), None)
        if match is None:
            raise GuardError(f"{where}: {pc.alembic_ini} has no readable script_location",
                             "check the alembic_ini path and its [alembic] section")
    framework = pc.framework or (match.framework if match else None)
    if framework is None and pc.migrations:
        framework = _classify(pc.migrations, paths, read)
    if framework is None or (match is None and not pc.migrations):
        raise GuardError(
            f"{where}: cannot tell the framework or the migrations directory of this project",
            "set both `framework` and `migrations` for it",
        )
    if match is None or match.framework != framework:
        migrations = pc.migrations or ""
        fw = frameworks.get(framework)
        match = Project(migrations, framework, migrations, (), "no schema source", (), False,
                        fw.generate_command, _dirname(migrations))
    schema = match.schema
    schema_from = match.schema_from
    if pc.schema is not None:
        schema, schema_from = pc.schema, f"schema in {source}"
    return match._replace(
        name=pc.name or match.name,
        migrations=pc.migrations or match.migrations,
        schema=schema, schema_from=schema_from,
        exclude=pc.exclude, allow_out_of_order=pc.allow_out_of_order,
        generate_command=pc.generate_command or match.generate_command,
        config=pc,
    )
