"""`migration-guard init`: detect, write the config, pre-commit config and caller workflow
from templates/, never overwrite without --force, print what it did and what comes next."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, Repo
from layouts import BY_NAME, LAYOUTS, Layout, setup

TEMPLATES = ROOT / "templates"
SUPABASE = BY_NAME["supabase"]
WRITTEN = [".migration-guard.yaml", ".pre-commit-config.yaml",
           ".github/workflows/migration-guard.yml"]
NEXT_STEPS = [
    "next steps:",
    "  pre-commit install --hook-type pre-commit --hook-type pre-push",
    "  git add .migration-guard.yaml .pre-commit-config.yaml "
    ".github/workflows/migration-guard.yml",
    '  git commit -m "Guard database migrations with migration-guard"',
    "  replace the forty zeros (rev: in .pre-commit-config.yaml, @ in "
    ".github/workflows/migration-guard.yml) with a full commit SHA of migration-guard",
]
DETECTED = {  # layout -> the project detection names
    "alembic": "migrations/versions", "supabase": "supabase/migrations", "drizzle": "drizzle",
    "flyway": "sql", "prisma": "prisma/migrations", "dbmate": "db/migrations",
    "golang-migrate": "migrations", "sql": "db/migrations",
}


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
def test_init_then_check_all_passes(repo: Repo, layout: Layout) -> None:
    setup(repo, layout)
    result = repo.mg("init")
    assert result.code == 0, result.out + result.err
    assert result.lines[0] == f"detected 1 project: {DETECTED[layout.name]} ({layout.name})"
    repo.commit("adopt migration-guard")
    check = repo.mg("check", "--all")
    assert check.code == 0, check.out + check.err
    assert check.lines[-1] == "no findings (required, immutable, linear, lint over 1 project)"


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
def test_written_config_lists_the_detected_project(repo: Repo, layout: Layout) -> None:
    setup(repo, layout)
    repo.mg("init")
    repo.add()
    listed = json.loads(repo.mg("projects", "--format", "json").out)["include"]
    assert [(p["name"], p["framework"]) for p in listed] == [(DETECTED[layout.name],
                                                              layout.name)]
    config = (repo.path / ".migration-guard.yaml").read_text()
    assert f"projects:\n  - name: {DETECTED[layout.name]}\n    framework: {layout.name}\n" \
        in config


def test_init_output_lines(repo: Repo) -> None:
    setup(repo, SUPABASE)
    result = repo.mg("init")
    assert result.lines == [
        "detected 1 project: supabase/migrations (supabase)",
        *(f"wrote {path}" for path in WRITTEN),
        *NEXT_STEPS,
    ]
    assert result.err == ""


def test_init_writes_the_templates(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.mg("init")
    assert (repo.path / ".pre-commit-config.yaml").read_text() == \
        (TEMPLATES / "pre-commit-config.yaml").read_text()
    assert (repo.path / ".github/workflows/migration-guard.yml").read_text() == \
        (TEMPLATES / "github-workflow.yml").read_text()
    config = (repo.path / ".migration-guard.yaml").read_text()
    template = (TEMPLATES / "migration-guard.yaml").read_text()
    added = ("\n# The projects `migration-guard init` detected:\nprojects:\n"
             "  - name: supabase/migrations\n    framework: supabase\n"
             "    migrations: supabase/migrations\n")
    assert config.replace(added, "", 1) == template


def test_init_writes_no_git_state(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.mg("init")
    assert repo.git("diff", "--cached", "--name-only") == ""
    assert repo.git("status", "--porcelain", "--untracked-files=all").splitlines() == [
        "?? .github/workflows/migration-guard.yml", "?? .migration-guard.yaml",
        "?? .pre-commit-config.yaml"]


def test_init_never_overwrites_without_force(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.write(".pre-commit-config.yaml", "repos: []\n")
    repo.write(".migration-guard.yaml", "checks: [lint]\n")
    result = repo.mg("init")
    assert result.code == 0
    entry = (TEMPLATES / "pre-commit-config.yaml").read_text().split("repos:\n", 1)[1]
    assert result.lines == [
        "detected 1 project: supabase/migrations (supabase)",
        "skipped .migration-guard.yaml: it exists (--force overwrites it)",
        "skipped .pre-commit-config.yaml: it exists (--force overwrites it)",
        "  add this entry under its `repos:`:",
        *(f"  {line}" for line in entry.splitlines() if line.strip()),
        "wrote .github/workflows/migration-guard.yml",
        "next steps:",
        "  pre-commit install --hook-type pre-commit --hook-type pre-push",
        "  git add .github/workflows/migration-guard.yml",
        '  git commit -m "Guard database migrations with migration-guard"',
        NEXT_STEPS[-1],
    ]
    assert (repo.path / ".pre-commit-config.yaml").read_text() == "repos: []\n"
    assert (repo.path / ".migration-guard.yaml").read_text() == "checks: [lint]\n"


def test_init_force_overwrites(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.write(".pre-commit-config.yaml", "repos: []\n")
    result = repo.mg("init", "--force")
    assert result.lines[1:4] == [f"wrote {path}" for path in WRITTEN]
    assert (repo.path / ".pre-commit-config.yaml").read_text() == \
        (TEMPLATES / "pre-commit-config.yaml").read_text()


def test_init_leaves_a_pyproject_config_alone(repo: Repo) -> None:
    setup(repo, SUPABASE)
    repo.write("pyproject.toml", "[tool.migration-guard]\nchecks = [\"lint\"]\n")
    result = repo.mg("init", "--force")
    assert result.lines[1] == ("skipped .migration-guard.yaml: pyproject.toml has a "
                               "[tool.migration-guard] section (both would be an error)")
    assert not (repo.path / ".migration-guard.yaml").exists()


def test_init_without_projects_keeps_detection_which_fails_closed(repo: Repo) -> None:
    repo.commit("empty", "README.md", "hello\n")
    result = repo.mg("init")
    assert result.lines[0] == ("detected no migrations project: list yours under `projects:` "
                               "in .migration-guard.yaml (see the commented example there)")
    assert (repo.path / ".migration-guard.yaml").read_text() == \
        (TEMPLATES / "migration-guard.yaml").read_text()
    repo.commit("adopt")
    checked = repo.mg("check", "--all")
    assert checked.code == 2  # still nothing to check: never a silent pass
    assert checked.err.startswith("migration-guard: error: no migration projects found")


def test_init_writes_at_the_repository_root(repo: Repo) -> None:
    setup(repo, SUPABASE)
    result = repo.mg("init", "-C", "supabase/migrations")
    assert result.code == 0
    assert all((repo.path / path).is_file() for path in WRITTEN)


def test_init_outside_a_repository_fails(repo: Repo, tmp_path_factory: pytest.TempPathFactory) \
        -> None:
    elsewhere = tmp_path_factory.mktemp("not-a-repo")
    result = repo.mg("init", "-C", str(elsewhere))
    assert result.code == 2
    assert result.err.splitlines()[0] == f"migration-guard: error: not a git repository: " \
        f"{elsewhere}"


def test_init_quotes_odd_paths_in_the_config(repo: Repo) -> None:
    repo.commit("base", "my app: v2/db/migrations/001_init.sql", "SELECT 1;\n")
    assert repo.mg("init").lines[0] == \
        "detected 1 project: my app: v2/db/migrations (sql)"
    repo.commit("adopt")
    listed = json.loads(repo.mg("projects", "--format", "json").out)["include"]
    assert [p["name"] for p in listed] == ["my app: v2/db/migrations"]
    assert repo.mg("check", "--all").code == 0
