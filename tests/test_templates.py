"""templates/: the config template covers every key at its default, the SQL templates pass
the lint with the conventions on, and the wheel ships all of it as package data."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, Repo

from migration_guard import template_files
from migration_guard.config import (
    DATABASE_KEYS,
    DEFAULT,
    EXCEPTION_KEYS,
    LINEAR_KEYS,
    LINT_KEYS,
    POSTGRES_KEYS,
    PROJECT_KEYS,
    TOP_KEYS,
    DatabaseConfig,
    Key,
    load_config,
)

TEMPLATES = ROOT / "templates"
CONFIG_TEMPLATE = TEMPLATES / "migration-guard.yaml"
# A commented-out key: `#key: value`, or a line of a commented-out block (`#  - name: ...`).
# Explanations are `# text` and stay comments.
_COMMENTED_KEY = re.compile(r"^#(?=[a-z_]+:|  )", re.MULTILINE)


def template_files_on_disk() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*")
                  if p.is_file() and p.suffix != ".pyc" and p.name != "__init__.py")


def uncommented_config() -> str:
    return _COMMENTED_KEY.sub("", CONFIG_TEMPLATE.read_text())


def _reader(text: str) -> Any:
    return lambda path: text.encode() if path == ".migration-guard.yaml" else None


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(value.items())
    return tuple(value) if isinstance(value, list) else value


def test_config_template_as_shipped_is_the_zero_config() -> None:
    config = load_config(_reader(CONFIG_TEMPLATE.read_text()))
    assert config._replace(source=None, lint=(), linear=()) == DEFAULT
    assert config.database == DatabaseConfig()
    # lint.pg_version is postgres.version now: the template leaves it commented out
    assert dict(config.lint) == {k: _normal(spec.default) for k, spec in LINT_KEYS.items()
                                 if k != "pg_version"}
    assert dict(config.linear) == {k: spec.default for k, spec in LINEAR_KEYS.items()}


def test_config_template_with_every_key_uncommented_loads() -> None:
    config = load_config(_reader(uncommented_config()))
    assert config.projects is not None and len(config.projects) == 1
    assert len(config.exceptions) == 1


def _missing(keys: dict[str, Key], mapping: dict[str, Any], where: str) -> list[str]:
    return [f"{where}{key}" for key in keys if key not in mapping]


def test_config_template_lists_every_key_of_the_config_schema() -> None:
    document = yaml.safe_load(uncommented_config())
    missing = _missing(TOP_KEYS, document, "")
    missing += _missing(PROJECT_KEYS, document["projects"][0], "projects[].")
    missing += _missing(EXCEPTION_KEYS, document["exceptions"][0], "exceptions[].")
    missing += _missing(DATABASE_KEYS, document["database"], "database.")
    missing += _missing(POSTGRES_KEYS, document["postgres"], "postgres.")
    missing += _missing(LINT_KEYS, document["lint"], "lint.")
    missing += _missing(LINEAR_KEYS, document["linear"], "linear.")
    assert missing == []


def _not_at_default(keys: dict[str, Key], mapping: dict[str, Any], where: str) -> list[str]:
    return [f"{where}{key}: {mapping[key]!r} != {spec.default!r}"
            for key, spec in keys.items()
            if spec.default is not None and key in mapping
            and _normal(mapping[key]) != _normal(spec.default)]


def test_config_template_values_are_the_defaults() -> None:
    document = yaml.safe_load(CONFIG_TEMPLATE.read_text())
    example = yaml.safe_load(uncommented_config())["projects"][0]
    wrong = _not_at_default(TOP_KEYS, document, "")
    wrong += _not_at_default(PROJECT_KEYS, example, "projects[].")
    wrong += _not_at_default(DATABASE_KEYS, document["database"], "database.")
    wrong += _not_at_default(POSTGRES_KEYS, document["postgres"], "postgres.")
    wrong += _not_at_default(LINT_KEYS, document["lint"], "lint.")
    wrong += _not_at_default(LINEAR_KEYS, document["linear"], "linear.")
    assert wrong == []


def test_every_template_starts_with_a_comment_saying_where_it_goes() -> None:
    firsts = {p.relative_to(TEMPLATES).as_posix(): p.read_text().split("\n", 1)[0]
              for p in template_files_on_disk()}
    assert firsts, "no templates found"
    assert {n: f for n, f in firsts.items() if not f.startswith(("# ", "-- "))} == {}


def test_templates_are_readable_through_importlib_resources() -> None:
    for path in template_files_on_disk():
        name = path.relative_to(TEMPLATES).as_posix()
        assert template_files.read(name) == path.read_text()


LINT_ALL_CONFIG = """lint:
  select: [all]
  # the template is not multi-tenant, leaves the schema to search_path (as `new` writes
  # it) and leaves its policies to the author (its comment says so)
  ignore: [table-without-tenant-column, table-without-schema, rls-without-policy]
"""


def _lint_as_new_migration(repo: Repo, sql: str) -> list[str]:
    repo.commit("base", "db/migrations/001_init.sql", "SELECT 1;\n",
                ".migration-guard.yaml", LINT_ALL_CONFIG)
    repo.write("db/migrations/002_create_example_items.sql", sql)
    repo.add()
    return repo.mg("lint").lines


def test_create_table_template_passes_the_lint_with_every_convention(repo: Repo) -> None:
    lines = _lint_as_new_migration(repo, (TEMPLATES / "sql" / "create_table.sql").read_text())
    assert lines[-1] == "no findings (lint over 1 project)"


def test_conventions_are_on_in_that_lint(repo: Repo) -> None:
    sql = (TEMPLATES / "sql" / "create_table.sql").read_text()
    without_rls = sql.replace("ALTER TABLE example_items ENABLE ROW LEVEL SECURITY;", "")
    lines = _lint_as_new_migration(repo, without_rls)
    assert any(": MG373 new table \"example_items\" does not enable row level security" in line
               for line in lines)


def test_blank_migration_template_passes_the_lint_with_every_rule(repo: Repo) -> None:
    lines = _lint_as_new_migration(repo, (TEMPLATES / "sql" / "migration.sql").read_text())
    assert lines[-1] == "no findings (lint over 1 project)"


# -- packaging ------------------------------------------------------------------------


def test_every_package_is_listed_in_pyproject() -> None:
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "migration_guard").rglob("*")
               if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))}
    on_disk |= {"migration_guard"}
    shipped = {"migration_guard.templates"} | {
        "migration_guard.templates." + ".".join(p.relative_to(TEMPLATES).parts)
        for p in TEMPLATES.rglob("*") if p.is_dir() and p.name != "__pycache__"}
    assert sorted(listed["packages"]) == sorted(on_disk | shipped)
    assert listed["package-dir"] == {"migration_guard.templates": "templates"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the sources (the shared tree gets no build/ litter)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("migration_guard", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "--disable-pip-version-check", "-w", str(work / "dist"), str(source)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = (work / "dist").glob("migration_guard-*.whl")
    return built


def test_wheel_ships_every_template(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = {f"migration_guard/templates/{p.relative_to(TEMPLATES).as_posix()}"
                for p in template_files_on_disk()}
    assert expected - names == set()


def test_templates_are_read_from_the_wheel_alone(wheel: Path, tmp_path: Path) -> None:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from migration_guard import template_files as t; "
            "print(t.__file__); print(t.read(t.SQL_MIGRATION).split(chr(10))[0])")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(wheel)], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"{wheel}/migration_guard/template_files.py",
        (TEMPLATES / "sql" / "migration.sql").read_text().split("\n")[0],
    ]


# -- the README's quick start -------------------------------------------------------------


def _quick_start() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start with pre-commit\n", 1)[1].split("\n## ", 1)[0]
    return section


def test_quick_start_config_has_every_hook_of_the_template_in_its_stage() -> None:
    section = _quick_start()
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = yaml.safe_load(block)
    template = yaml.safe_load((TEMPLATES / "pre-commit-config.yaml").read_text())
    stages = [(h["id"], h["stages"]) for h in shown["repos"][0]["hooks"]]
    assert stages == [(h["id"], h["stages"]) for h in template["repos"][0]["hooks"]]
    assert shown["default_install_hook_types"] == template["default_install_hook_types"]
    assert "pre-commit install --hook-type pre-commit --hook-type pre-push\n" in section


def test_quick_start_table_names_every_hook_of_the_manifest() -> None:
    manifest = [h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())]
    rows = [line.split("|")[1].strip().strip("`") for line in _quick_start().splitlines()
            if line.startswith("| `")]
    assert rows == manifest
