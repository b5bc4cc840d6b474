"""`migration-guard projects`: what a run would check, as text or as a one-line JSON job
matrix; and `check --project`, which a matrix job uses to check one of them."""

from __future__ import annotations

import json
from typing import Any

import yaml
from conftest import ROOT, Repo
from layouts import BY_NAME, setup

MONOREPO_CONFIG = """projects:
  - name: web
    framework: drizzle
    migrations: drizzle
    lint:
      pg_version: 16
  - name: api
    framework: alembic
    alembic_ini: alembic.ini
    migrations: migrations/versions
lint:
  pg_version: 15
"""


def monorepo(repo: Repo, config: str | None = MONOREPO_CONFIG) -> None:
    for layout in (BY_NAME["alembic"], BY_NAME["drizzle"]):
        for rel, content in layout.files.items():
            repo.write(rel, content)
    if config is not None:
        repo.write(".migration-guard.yaml", config)
    repo.commit("monorepo")


def test_text_lists_each_project(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    result = repo.mg("projects")
    assert result.code == 0
    assert result.lines == [
        "supabase/migrations",
        "  framework: supabase",
        "  root: .",
        "  migrations: supabase/migrations",
        "  schema: supabase/schemas/**/*.sql (declarative schemas in supabase/schemas/)",
    ]


def test_text_shows_alembic_schema_and_configured_pg_version(repo: Repo) -> None:
    monorepo(repo)
    assert repo.mg("projects").lines == [
        "web",
        "  framework: drizzle",
        "  root: .",
        "  migrations: drizzle",
        "  schema: src/db/schema.ts (schema in drizzle.config.ts)",
        "  pg_version: 16",
        "api",
        "  framework: alembic",
        "  root: .",
        "  migrations: migrations/versions",
        "  alembic_ini: alembic.ini",
        "  schema: app/models.py (modules behind target_metadata in migrations/env.py)",
        "  pg_version: 15",
    ]


def test_json_is_one_line_matrix(repo: Repo) -> None:
    monorepo(repo)
    result = repo.mg("projects", "--format", "json")
    assert result.code == 0
    assert result.out.count("\n") == 1
    assert json.loads(result.out) == {"include": [
        {"name": "web", "framework": "drizzle", "root": ".", "migrations": "drizzle",
         "alembic_ini": None, "schema": ["src/db/schema.ts"],
         "schema_from": "schema in drizzle.config.ts", "pg_version": 16},
        {"name": "api", "framework": "alembic", "root": ".",
         "migrations": "migrations/versions", "alembic_ini": "alembic.ini",
         "schema": ["app/models.py"],
         "schema_from": "modules behind target_metadata in migrations/env.py",
         "pg_version": 15},
    ]}


def test_json_without_config_has_no_pg_version(repo: Repo) -> None:
    monorepo(repo, config=None)
    result = repo.mg("projects", "--format", "json")
    assert result.out == (
        '{"include":[{"name":"drizzle","framework":"drizzle","root":".","migrations":"drizzle",'
        '"alembic_ini":null,"schema":["src/db/schema.ts"],"schema_from":"schema in '
        'drizzle.config.ts","pg_version":null},{"name":"migrations/versions",'
        '"framework":"alembic","root":".","migrations":"migrations/versions",'
        '"alembic_ini":"alembic.ini","schema":["app/models.py"],"schema_from":"modules '
        'behind target_metadata in migrations/env.py","pg_version":null}]}\n')


def test_projects_are_read_from_the_index(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.write("db/migrations/001_init.sql", "SELECT 1;\n")  # on disk only
    assert [p["name"] for p in json.loads(repo.mg("projects", "--format", "json").out)[
        "include"]] == ["supabase/migrations"]


def test_no_projects_found_fails_closed(repo: Repo) -> None:
    repo.commit("empty", "README.md", "hi\n")
    result = repo.mg("projects", "--format", "json")
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("migration-guard: error: no migration projects found")


def test_no_projects_on_purpose(repo: Repo) -> None:
    repo.commit("config", ".migration-guard.yaml", "projects: []\n")
    assert repo.mg("projects", "--format", "json").out == '{"include":[]}\n'
    assert repo.mg("projects").lines == [
        "no migrations project: `projects: []` in .migration-guard.yaml"]


def test_check_project_checks_only_that_project(repo: Repo) -> None:
    monorepo(repo)
    result = repo.mg("check", "--all", "--fast", "--project", "web")
    assert result.code == 0, result.out + result.err
    assert result.lines[-1] == "no findings (required, immutable, linear, lint over 1 project)"


def test_check_unknown_project_fails(repo: Repo) -> None:
    monorepo(repo)
    result = repo.mg("check", "--all", "--project", "nope")
    assert result.code == 2
    assert result.err.splitlines() == ["migration-guard: error: no project named 'nope'",
                                       "  hint: choose one of: web, api"]


def _readme_matrix_job() -> dict[str, Any]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### projects\n", 1)[1].split("\n## ", 1)[0]
    snippet = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    return yaml.safe_load(snippet)["jobs"]["guard"]  # type: ignore[no-any-return]


def test_readme_matrix_job_calls_the_reusable_workflow() -> None:
    job = _readme_matrix_job()
    assert job["uses"] == ("migration-guard/migration-guard/.github/workflows/"
                           "migration-guard.yml@" + "0" * 40)
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.list.outputs.matrix) }}"


def test_readme_matrix_job_passes_only_inputs_the_workflow_has() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/migration-guard.yml").read_text())
    inputs = workflow[True]["workflow_call"]["inputs"]  # YAML 1.1 reads `on:` as True
    assert set(_readme_matrix_job()["with"]) <= set(inputs)
