"""The configuration file: loading, strict validation against one schema, typed result.

``.migration-guard.yaml`` at the repository root, or ``[tool.migration-guard]`` in
``pyproject.toml`` (same schema; both present is an error). Files are read from the
snapshot being checked (the index, or the commit of a range), never from the working
tree. An unknown key, a wrong type or a bad value is a :class:`GuardError` naming the
file, the line, the key and what is allowed.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable

from migration_guard.errors import GuardError
from migration_guard.frameworks import NAMES as FRAMEWORKS
from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

YAML_NAME = ".migration-guard.yaml"
PYPROJECT_NAME = "pyproject.toml"

FAST_CHECKS = ("required", "immutable", "linear")
ALL_CHECKS = (*FAST_CHECKS, "lint", "apply")
DEFAULT_CHECKS = (*FAST_CHECKS, "lint")  # apply needs a database: enabled explicitly
SHA_PATTERN = r"[0-9a-f]{40}([0-9a-f]{24})?"


class Key(NamedTuple):
    """One allowed key: its type, default, and (for enums) the allowed values."""

    # "str" | "bool" | "int" | "strlist" | "enum" | "enumlist" | "section" | "list" |
    # "names" (a list of strings, or one string: ``select: all``) | "map" (any key, each
    # value checked against ``children["*"]``)
    kind: str
    default: Any = None
    allowed: tuple[str, ...] = ()
    children: dict[str, Key] | None = None
    check: Callable[[Any], str | None] | None = None  # returns a complaint or None


def _relative_path(value: Any) -> str | None:
    text = str(value)
    if text.startswith("/") or ".." in text.split("/"):
        return "must be a path relative to the repository root, without '..'"
    return None


def _blob_id(value: Any) -> str | None:
    return None if re.fullmatch(SHA_PATTERN, str(value)) else "must be a full 40-character blob id"


def _non_empty(value: Any) -> str | None:
    return None if str(value).strip() else "must not be empty"


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _not_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _env_name(value: Any) -> str | None:
    return None if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(value)) else \
        "must be an environment variable name (letters, digits, _)"


ROUNDTRIP_MODES = ("off", "new", "all", "downgrades")
# How the project's SQL is run in deploys: "framework" is the framework's own runner (for
# one that runs all pending migrations in one transaction, so does apply); "per-file" is
# one transaction per file, statements PostgreSQL refuses in one run in autocommit.
RUNNERS = ("framework", "per-file")

TRACE_MODES = ("off", "new", "all")


def _timezone_name(value: Any) -> str | None:
    return None if re.fullmatch(r"[A-Za-z0-9_+\-/:]+", str(value)) else \
        "must be a time zone name such as UTC or Europe/Berlin"


def _regex(value: Any) -> str | None:
    try:
        re.compile(str(value))
    except re.error as exc:
        return f"is not a valid regular expression: {exc}"
    return None


def _fk_template(value: Any) -> str | None:
    try:
        str(value).format(table="t", columns="c")
    except (KeyError, IndexError, ValueError):
        return "may only use the placeholders {table} and {columns}"
    return None


# Mirrors migration_guard.lint.LintOptions (a test keeps them in step); spelled out here so
# reading the config never imports the SQL parser.
SEVERITIES = ("error", "warning")

LINT_KEYS: dict[str, Key] = {
    "select": Key("names", default=()),
    "extend_select": Key("names", default=()),
    "ignore": Key("names", default=()),
    "pg_version": Key("int", default=15, check=_positive),
    "in_transaction": Key("bool", default=False),
    "report_unused_ignores": Key("bool", default=False),
    "timestamp_columns": Key("strlist", default=("created_at", "updated_at")),
    "tenant_column": Key("str", default="tenant_id"),
    "tenant_exempt_tables": Key("strlist", default=()),
    "index_name_pattern": Key("str", default=r"^[a-z][a-z0-9_]*_(idx|key|pkey)$",
                              check=_regex),
    "require_plural_table_names": Key("bool", default=True),
    "column_name_pattern": Key("str", default=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$", check=_regex),
    "foreign_key_name_pattern": Key("str", default="{table}_{columns}_fkey",
                                    check=_fk_template),
    # code or rule name -> severity; code or rule name -> tables (names checked by the lint)
    "severity": Key("map", default=(), children={"*": Key("enum", allowed=SEVERITIES)}),
    "exempt_tables": Key("map", default=(), children={"*": Key("strlist")}),
}

# ``linear``: strict mode asks for one unbranched Alembic chain (no merge revisions, no
# branch points) instead of one head.
LINEAR_KEYS: dict[str, Key] = {
    "strict": Key("bool", default=False),
}

PROJECT_KEYS: dict[str, Key] = {
    "name": Key("str"),
    "framework": Key("enum", allowed=FRAMEWORKS),
    "migrations": Key("str", check=_relative_path),
    "alembic_ini": Key("str", check=_relative_path),
    "schema": Key("strlist", default=None),
    "exclude": Key("strlist", default=()),
    "allow_out_of_order": Key("bool", default=False),
    "generate_command": Key("str"),
    "generate_check": Key("str", check=_non_empty),
    "runner": Key("enum", default="framework", allowed=RUNNERS),
    "prelude": Key("strlist", default=(), check=_relative_path),
    "seed": Key("strlist", default=(), check=_relative_path),
    "roundtrip": Key("enum", default="off", allowed=ROUNDTRIP_MODES),
    "drift": Key("bool", default=False),
    "database_url_env": Key("str", default="DATABASE_URL", check=_env_name),
    "declarative_schema": Key("strlist", default=()),
    "lint": Key("section", children=LINT_KEYS),
    "linear": Key("section", children=LINEAR_KEYS),
    "trace": Key("enum", default="new", allowed=TRACE_MODES),
    "trace_rows": Key("int", default=None, check=_positive),
    "timezone": Key("str", default="UTC", check=_timezone_name),
}

DATABASE_KEYS: dict[str, Key] = {  # seconds, except sample_rows
    "statement_timeout": Key("int", default=300, check=_positive),
    "lock_timeout": Key("int", default=300, check=_positive),
    "connect_timeout": Key("int", default=10, check=_positive),
    "start_timeout": Key("int", default=30, check=_positive),
    "run_timeout": Key("int", default=900, check=_positive),
    "sample_rows": Key("int", default=3, check=_not_negative),
    "cache": Key("bool", default=True),
}

URL_ROLES = ("contained", "full", "as-given")


def _preset_name(value: Any) -> str | None:
    from migration_guard.frameworks import SERVER_PRESETS

    allowed = ("auto", "none", *SERVER_PRESETS)
    return None if value in allowed else f"is not one of: {', '.join(allowed)}"


def _stand_in(value: Any) -> str | None:
    from migration_guard.frameworks.supabase_preset import PLATFORM_EXTENSIONS

    return None if value in PLATFORM_EXTENSIONS else \
        f"has no stand-in; stand-ins exist for: {', '.join(PLATFORM_EXTENSIONS)}"


# The server the migrations run on: production's major (the lint uses it too) and how the
# throwaway server may be set up.
POSTGRES_KEYS: dict[str, Key] = {
    "version": Key("int", default=None, check=_positive),
    "strict": Key("bool", default=False),
    "url_role": Key("enum", default="contained", allowed=URL_ROLES),
    "preset": Key("str", default="auto", check=_preset_name),
    "stand_ins": Key("strlist", default=(), check=_stand_in),
}

EXCEPTION_KEYS: dict[str, Key] = {
    "path": Key("str", check=_relative_path),
    "blob": Key("str", check=_blob_id),
    "reason": Key("str", check=_non_empty),
}

TOP_KEYS: dict[str, Key] = {
    "base": Key("str"),
    "checks": Key("enumlist", default=DEFAULT_CHECKS, allowed=ALL_CHECKS),
    "projects": Key("list", children=PROJECT_KEYS),
    "exceptions": Key("list", default=(), children=EXCEPTION_KEYS),
    "database": Key("section", children=DATABASE_KEYS),
    "postgres": Key("section", children=POSTGRES_KEYS),
    "lint": Key("section", children=LINT_KEYS),
    "linear": Key("section", children=LINEAR_KEYS),
    "fail_on": Key("enum", default="error", allowed=SEVERITIES),
}

REQUIRED = {"exceptions": ("path", "blob", "reason")}


class ReviewedEdit(NamedTuple):
    """An `exceptions:` entry: a reviewed edit of a merged migration, allowed for one exact
    new blob."""

    path: str
    blob: str
    reason: str
    line: int


class ProjectConfig(NamedTuple):
    name: str | None
    framework: str | None
    migrations: str | None
    alembic_ini: str | None
    schema: tuple[str, ...] | None
    exclude: tuple[str, ...]
    allow_out_of_order: bool
    generate_command: str | None
    line: int
    prelude: tuple[str, ...] = ()
    seed: tuple[str, ...] = ()
    roundtrip: str = "off"
    drift: bool = False
    database_url_env: str = "DATABASE_URL"
    declarative_schema: tuple[str, ...] = ()
    lint: tuple[tuple[str, Any], ...] = ()  # lint settings overriding the top-level ones
    generate_check: str | None = None  # a command that exits 1 when a migration is missing
    runner: str = "framework"
    linear: tuple[tuple[str, Any], ...] = ()  # linear settings overriding the top-level ones
    trace: str = "new"  # which migrations apply traces: off | new | all
    trace_rows: int | None = None  # rows per base table for the trace's growth; None: sample
    timezone: str = "UTC"  # production's TimeZone setting, for the traced session


class DatabaseConfig(NamedTuple):
    """The ``database`` section: bounds of the throwaway database (seconds)."""

    statement_timeout: int = 300
    lock_timeout: int = 300
    connect_timeout: int = 10
    start_timeout: int = 30
    run_timeout: int = 900
    sample_rows: int = 3
    cache: bool = True
    url: str | None = None  # never from the file: --database-url / the environment


class PostgresConfig(NamedTuple):
    """The ``postgres`` section: which server the migrations must run on.

    ``version`` None: not configured (the lint assumes 15, apply takes the first provider).
    ``url_role``: on a server URL, the migrations run as a role made for the run that owns
    only the throwaway database (``contained``), as the URL's role on a server holding no
    other database (``full``), or as the URL's role anywhere (``as-given``, opt-in).
    ``preset``: the server-side setup of a framework (``auto``: the project's own).
    """

    version: int | None = None
    strict: bool = False
    url_role: str = "contained"
    preset: str = "auto"
    stand_ins: tuple[str, ...] = ()


class Config(NamedTuple):
    source: str | None  # the file it came from, None for zero config
    base: str | None
    checks: tuple[str, ...]
    projects: tuple[ProjectConfig, ...] | None  # None: detect
    exceptions: tuple[ReviewedEdit, ...]
    database: DatabaseConfig = DatabaseConfig()
    lint: tuple[tuple[str, Any], ...] = ()  # the top-level lint section, as given
    linear: tuple[tuple[str, Any], ...] = ()  # the top-level linear section, as given
    #: The lowest severity that makes a run exit 1 ("error", or "warning": any finding).
    fail_on: str = "error"
    postgres: PostgresConfig = PostgresConfig()

    @property
    def pg_version(self) -> int | None:
        """Production's major, as configured (``postgres.version``, else the older
        top-level ``lint.pg_version``); None when neither is set."""
        return self.postgres.version or dict(self.lint).get("pg_version")


DEFAULT = Config(None, None, DEFAULT_CHECKS, None, ())


# -- a tiny value tree with line numbers, built from YAML nodes or TOML data ----------


class Value(NamedTuple):
    data: Any  # scalar, list[Value] or dict[str, tuple[int, Value]]
    line: int


MAX_CONFIG_BYTES = 1024 * 1024  # a real configuration is a few kilobytes
MAX_YAML_NODES = 50_000  # aliases count as what they expand to; 500 projects: ~10,000
MAX_YAML_DEPTH = 64
MERGE_TAG = "tag:yaml.org,2002:merge"


def _from_yaml(text: str, source: str) -> Value | None:
    """The value tree of a YAML text: read without PyYAML when it is written in the YAML
    :mod:`migration_guard.yaml_lite` reads, else from the cache when this text was read
    before (with the same PyYAML), since importing PyYAML alone costs a process more
    instructions (~124 M) than starting Python (~38 M)."""
    from migration_guard.yaml_lite import read

    tree = read(text, Value, max_nodes=MAX_YAML_NODES)
    if isinstance(tree, Value):
        return tree
    from migration_guard.cache import Pack, cache_dir, key_of, module_stamp

    pack = Pack(os.path.join(cache_dir(), "config"), keep=256)
    key = key_of((YAML_CACHE_FORMAT, module_stamp("yaml"), text))
    cached = pack.get(key)
    if cached is not None:
        with contextlib.suppress(TypeError, ValueError):
            return _unplain(cached)
    value = _compose_yaml(text, source)
    plain = _plain(value) if value is not None else None
    if plain is not None:
        pack.put(key, plain)
        pack.save()
    return value


#: Bump when the stored form of a value tree changes.
YAML_CACHE_FORMAT = "config-yaml-1"
#: Scalars the cache stores as they are (marshal writes them); a tree holding any other
#: (a YAML timestamp is a datetime) is read with PyYAML every time.
_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Value) -> Any:
    """``value`` as tuples, lists and dicts of plain scalars, or ``None`` if it holds
    another kind of scalar."""
    data = value.data
    if isinstance(data, list):
        items = [_plain(item) for item in data]
        return None if None in items else (1, items, value.line)
    if isinstance(data, dict):
        entries = {key: (line, _plain(item)) for key, (line, item) in data.items()}
        if any(plain is None for _line, plain in entries.values()):
            return None
        return (2, entries, value.line)
    return (0, data, value.line) if type(data) in _PLAIN_SCALARS else None


def _unplain(plain: Any) -> Value:
    """The value tree :func:`_plain` stored (``TypeError``/``ValueError`` for anything else)."""
    kind, data, line = plain
    if kind == 1:
        return Value([_unplain(item) for item in data], line)
    if kind == 2:
        return Value({key: (at, _unplain(item)) for key, (at, item) in data.items()}, line)
    if kind != 0 or type(data) not in _PLAIN_SCALARS:
        raise ValueError(kind)
    return Value(data, line)


def _compose_yaml(text: str, source: str) -> Value | None:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader)
        # A scalar no safe constructor makes (a plain "=" is YAML 1.1's value key) is an
        # error of the text too, raised while the tree is built.
        return None if node is None else _YamlTree(source, yaml).value(node, 0)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise GuardError(
            f"{where}: invalid YAML: {problem}",
            f"fix the syntax of {source} (a YAML linter points at the exact spot)",
        ) from None


class _YamlTree:
    """Turns a composed YAML node graph into a :class:`Value` tree.

    The composer keeps an alias as a reference to its anchor, so a few hundred bytes of
    anchors nested in anchors stand for billions of nodes; expanding them all would hang
    the reader. Every node visited, alias expansions included, is counted against
    ``MAX_YAML_NODES``, and nesting against ``MAX_YAML_DEPTH``.
    """

    def __init__(self, source: str, yaml: Any) -> None:
        self.source = source
        self.yaml = yaml
        self.visited = 0
        self.constructor = yaml.constructor.SafeConstructor()
        self.scalars: dict[int, Value] = {}  # by node id: an alias reuses its anchor's value

    def value(self, node: Any, depth: int) -> Value:
        """The value tree of ``node``, every alias expanded."""
        self._count(node, depth)
        line = node.start_mark.line + 1
        if isinstance(node, self.yaml.MappingNode):
            return Value(self._mapping(node, depth), line)
        if isinstance(node, self.yaml.SequenceNode):
            return Value([self.value(item, depth + 1) for item in node.value], line)
        scalar = self.scalars.get(id(node))
        if scalar is None:
            scalar = self.scalars[id(node)] = Value(self.constructor.construct_object(node),
                                                    line)
        return scalar

    def _count(self, node: Any, depth: int) -> None:
        self.visited += 1
        if self.visited > MAX_YAML_NODES:
            raise GuardError(
                f"{self.source}: more than {MAX_YAML_NODES:,} YAML nodes once aliases are "
                "expanded",
                f"write {self.source} without aliases of anchors that hold aliases",
            )
        if depth > MAX_YAML_DEPTH:
            raise GuardError(
                f"{self.source}:{node.start_mark.line + 1}: YAML nested more than "
                f"{MAX_YAML_DEPTH} levels deep",
                f"flatten {self.source}: the configuration is at most a few levels deep",
            )

    def _mapping(self, node: Any, depth: int) -> dict[str, tuple[int, Value]]:
        """Keys written here win over keys merged in with ``<<``, as YAML's merge key says."""
        explicit: dict[str, tuple[int, Value]] = {}
        merged: dict[str, tuple[int, Value]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                for mapping in self._merged(value_node, depth + 1):
                    for key, entry in self._mapping(mapping, depth + 1).items():
                        merged.setdefault(key, entry)
                continue
            key = str(key_node.value)
            if key in explicit:
                raise GuardError(
                    f"{self.source}:{key_node.start_mark.line + 1}: key '{key}' appears twice",
                    "keep one of them",
                )
            explicit[key] = (key_node.start_mark.line + 1, self.value(value_node, depth + 1))
        return {**merged, **explicit}

    def _merged(self, node: Any, depth: int) -> list[Any]:
        """The mappings a merge key names: one mapping, or a list of them."""
        self._count(node, depth)
        items = node.value if isinstance(node, self.yaml.SequenceNode) else [node]
        for item in items:
            if not isinstance(item, self.yaml.MappingNode):
                raise GuardError(
                    f"{self.source}:{item.start_mark.line + 1}: '<<' merges a mapping or a "
                    "list of mappings",
                    "point '<<' at an anchored mapping, e.g. <<: *defaults",
                )
        return list(items)


def _from_toml(text: str, source: str) -> Value | None:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GuardError(f"{source}: invalid TOML: {exc}", f"fix the syntax of {source}") from None
    section = data.get("tool", {}).get("migration-guard")
    if section is None:
        return None
    lines = text.splitlines()
    start = next(
        (i for i, raw in enumerate(lines) if raw.strip().startswith("[tool.migration-guard")), 0
    )
    return _toml_value(section, lines, start)


def _toml_value(data: Any, lines: list[str], start: int) -> Value:
    """Wrap TOML data; line numbers found by searching for each key after its section."""
    if isinstance(data, dict):
        mapping: dict[str, tuple[int, Value]] = {}
        for key, value in data.items():
            line = _find_line(lines, start, key)
            mapping[key] = (line, _toml_value(value, lines, line - 1))
        return Value(mapping, start + 1)
    if isinstance(data, list):
        return Value([_toml_value(item, lines, start) for item in data], start + 1)
    return Value(data, start + 1)


def _find_line(lines: list[str], start: int, key: str) -> int:
    pattern = re.compile(rf'^\s*(?:\[+[^\]]*\.)?"?{re.escape(key)}"?\s*(?:=|\])')
    for i in range(start, len(lines)):
        if pattern.search(lines[i]):
            return i + 1
    return start + 1


# -- validation -----------------------------------------------------------------------
# Hand-written, not a JSON Schema library: bench/bench_libraries.py (2026-12-02, 11
# alternating runs, loaded machine) put import + validation of a three-project config at
# 409 ms over an empty process for this module, 2,306 ms with jsonschema (5.6x) and 762 ms
# with fastjsonschema (1.9x); every fast hook reads the config. It also knows each key's line.


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def _fail(source: str, line: int, key: str, problem: str, hint: str) -> GuardError:
    return GuardError(f"{source}:{line}: {key}: {problem}", hint)


def _check_scalar(key: str, spec: Key, value: Value, source: str) -> Any:
    data = value.data
    if spec.kind == "enum" and isinstance(data, bool) and ("on" if data else "off") in spec.allowed:
        data = "on" if data else "off"  # YAML 1.1 reads a bare off/on as a boolean
    expected = {"str": str, "bool": bool, "int": int, "enum": str}[spec.kind]
    if isinstance(data, dict | list) or type(data) is not expected:
        shown = "a string" if spec.kind == "enum" else _type_name(expected())
        raise _fail(source, value.line, key, f"expected {shown}, got {_type_name(data)}",
                    f"set {key} to {shown}" + (f": one of {', '.join(spec.allowed)}"
                                               if spec.allowed else ""))
    if spec.kind == "enum" and data not in spec.allowed:
        raise _fail(source, value.line, key, f"'{data}' is not allowed",
                    f"use one of: {', '.join(spec.allowed)}")
    if spec.check is not None and (complaint := spec.check(data)):
        raise _fail(source, value.line, key, f"'{data}' {complaint}", f"correct {key}")
    return data


def _check_strlist(key: str, spec: Key, value: Value, source: str) -> tuple[str, ...]:
    items = value.data if isinstance(value.data, list) else None
    if items is None:
        raise _fail(source, value.line, key, f"expected a list of strings, got "
                    f"{_type_name(value.data)}", f"write {key} as a list, e.g. [\"a\", \"b\"]")
    out: list[str] = []
    for item in items:
        if not isinstance(item.data, str):
            raise _fail(source, item.line, key, f"expected a string, got {_type_name(item.data)}",
                        f"quote the entry of {key}")
        if spec.kind == "enumlist" and item.data not in spec.allowed:
            raise _fail(source, item.line, key, f"'{item.data}' is not allowed",
                        f"use any of: {', '.join(spec.allowed)}")
        if spec.check is not None and (complaint := spec.check(item.data)):
            raise _fail(source, item.line, key, f"'{item.data}' {complaint}", f"correct {key}")
        out.append(item.data)
    return tuple(out)


def _check_mapping(
    path: str, keys: dict[str, Key], value: Value, source: str
) -> dict[str, tuple[int, Any]]:
    if not isinstance(value.data, dict):
        raise _fail(source, value.line, path or "configuration",
                    f"expected a mapping, got {_type_name(value.data)}",
                    "write key: value pairs")
    result: dict[str, tuple[int, Any]] = {}
    for key, (line, item) in value.data.items():
        full = f"{path}.{key}" if path else key
        spec = keys.get(key) or keys.get("*")
        if spec is None:
            raise _fail(source, line, full, "unknown key",
                        f"allowed keys here: {', '.join(keys)}")
        if spec.kind == "names" and isinstance(item.data, str):
            result[key] = (line, (item.data,))
        elif spec.kind in ("strlist", "enumlist", "names"):
            result[key] = (line, _check_strlist(full, spec, item, source))
        elif spec.kind == "map":
            assert spec.children is not None
            result[key] = (line, _check_mapping(full, spec.children, item, source))
        elif spec.kind == "list":
            if not isinstance(item.data, list):
                raise _fail(source, item.line, full,
                            f"expected a list, got {_type_name(item.data)}",
                            f"write {full} as a list of mappings (- key: value)")
            assert spec.children is not None
            entries = []
            for index, entry in enumerate(item.data):
                checked = _check_mapping(f"{full}[{index}]", spec.children, entry, source)
                for required in REQUIRED.get(key, ()):
                    if required not in checked:
                        raise _fail(source, entry.line, f"{full}[{index}]",
                                    f"missing key '{required}'",
                                    f"every entry of {full} needs: {', '.join(REQUIRED[key])}")
                entries.append((entry.line, checked))
            result[key] = (line, entries)
        elif spec.kind == "section":
            assert spec.children is not None
            result[key] = (line, _check_mapping(full, spec.children, item, source))
        else:
            result[key] = (line, _check_scalar(full, spec, item, source))
    return result


def _project(line: int, raw: dict[str, tuple[int, Any]]) -> ProjectConfig:
    def get(key: str) -> Any:
        return raw[key][1] if key in raw else PROJECT_KEYS[key].default

    schema = get("schema")
    return ProjectConfig(
        name=get("name"), framework=get("framework"),
        migrations=(get("migrations") or "").strip("/") or None,
        alembic_ini=get("alembic_ini"), schema=tuple(schema) if schema is not None else None,
        exclude=tuple(get("exclude")), allow_out_of_order=get("allow_out_of_order"),
        generate_command=get("generate_command"), line=line,
        prelude=tuple(get("prelude")), seed=tuple(get("seed")), roundtrip=get("roundtrip"),
        drift=get("drift"), database_url_env=get("database_url_env"),
        declarative_schema=tuple(get("declarative_schema")),
        lint=_lint(raw["lint"][1]) if "lint" in raw else (),
        generate_check=get("generate_check"), runner=get("runner"),
        linear=_lint(raw["linear"][1]) if "linear" in raw else (),
        trace=get("trace"), trace_rows=get("trace_rows"), timezone=get("timezone"),
    )


def default_project_config() -> ProjectConfig:
    """The entry of a project nobody configured: every key at its default."""
    return _project(0, {})


def _lint(raw: dict[str, tuple[int, Any]]) -> tuple[tuple[str, Any], ...]:
    return tuple((key, _lint_value(value)) for key, (_line, value) in raw.items())


def _lint_value(value: Any) -> Any:
    """A lint setting as LintOptions holds it: lists as tuples, maps as (key, value) pairs."""
    if isinstance(value, dict):
        return tuple((key, _lint_value(item)) for key, (_line, item) in value.items())
    return tuple(value) if isinstance(value, list) else value


def _database(raw: dict[str, tuple[int, Any]]) -> DatabaseConfig:
    return DatabaseConfig(**{key: value for key, (_line, value) in raw.items()})


def _postgres(raw: dict[str, tuple[int, Any]]) -> PostgresConfig:
    values: dict[str, Any] = {key: tuple(value) if isinstance(value, list) else value
                              for key, (_line, value) in raw.items()}
    return PostgresConfig(**values)


def _one_version(raw: dict[str, tuple[int, Any]], source: str) -> None:
    """``postgres.version`` and the older ``lint.pg_version`` name one thing: both set to
    different majors is a contradiction, not an override."""
    postgres = raw["postgres"][1] if "postgres" in raw else {}
    lint = raw["lint"][1] if "lint" in raw else {}
    if "version" in postgres and "pg_version" in lint \
            and postgres["version"][1] != lint["pg_version"][1]:
        raise _fail(source, lint["pg_version"][0], "lint.pg_version",
                    f"{lint['pg_version'][1]} contradicts postgres.version "
                    f"{postgres['version'][1]} (line {postgres['version'][0]})",
                    "remove lint.pg_version: postgres.version names production's major "
                    "for the lint and the apply check alike")


def parse_config(value: Value | None, source: str) -> Config:
    """The typed configuration of a value tree; every key at its default where absent."""
    if value is None:
        return DEFAULT._replace(source=source)
    raw = _check_mapping("", TOP_KEYS, value, source)
    _one_version(raw, source)
    projects = None
    if "projects" in raw:
        projects = tuple(_project(line, entry) for line, entry in raw["projects"][1])
        for proj in projects:
            if proj.framework is None and proj.migrations is None and proj.alembic_ini is None:
                raise _fail(source, proj.line, "projects", "a project needs at least one of "
                            "framework, migrations, alembic_ini",
                            "name the framework and the migrations directory")
    exceptions = tuple(
        ReviewedEdit(e["path"][1], e["blob"][1], e["reason"][1], line)
        for line, e in (raw["exceptions"][1] if "exceptions" in raw else [])
    )
    return Config(
        source=source,
        base=raw["base"][1] if "base" in raw else None,
        checks=raw["checks"][1] if "checks" in raw else DEFAULT_CHECKS,
        projects=projects,
        exceptions=exceptions,
        database=_database(raw["database"][1]) if "database" in raw else DatabaseConfig(),
        lint=_lint(raw["lint"][1]) if "lint" in raw else (),
        linear=_lint(raw["linear"][1]) if "linear" in raw else (),
        fail_on=raw["fail_on"][1] if "fail_on" in raw else "error",
        postgres=_postgres(raw["postgres"][1]) if "postgres" in raw else PostgresConfig(),
    )


def load_config(read: Callable[[str], bytes | None], explicit: str | None = None) -> Config:
    """Load the config from a snapshot; ``read(path)`` returns a file's bytes or None."""
    if explicit is not None:
        data = read(explicit)
        if data is None:
            raise GuardError(f"config file not found: {explicit}",
                             "check the path given to --config")
        return _parse_file(explicit, data)
    yaml_data = read(YAML_NAME)
    toml_data = read(PYPROJECT_NAME)
    toml_value = _from_toml(_decode(toml_data, PYPROJECT_NAME), PYPROJECT_NAME) \
        if toml_data is not None else None
    if yaml_data is not None and toml_value is not None:
        raise GuardError(
            f"configuration found in both {YAML_NAME} and {PYPROJECT_NAME} [tool.migration-guard]",
            "keep exactly one of them",
        )
    if yaml_data is not None:
        return _parse_file(YAML_NAME, yaml_data)
    if toml_value is not None:
        return parse_config(toml_value, PYPROJECT_NAME)
    return DEFAULT


def _decode(data: bytes, source: str) -> str:
    if len(data) > MAX_CONFIG_BYTES:
        raise GuardError(
            f"{source}: {len(data):,} bytes, over the {MAX_CONFIG_BYTES // 1024 // 1024} MB "
            "limit of a configuration file",
            f"keep {source} under 1 MB: a configuration is a few kilobytes",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GuardError(f"{source}:{line}: not valid UTF-8 (byte offset {exc.start})",
                         f"save {source} as UTF-8") from None


def _parse_file(name: str, data: bytes) -> Config:
    text = _decode(data, name)
    if name.endswith(".toml"):
        return parse_config(_from_toml(text, name), name)
    return parse_config(_from_yaml(text, name), name)
