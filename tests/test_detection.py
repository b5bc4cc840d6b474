"""Detection as real repositories lay projects out, failing closed where it cannot tell:
Flask-Migrate, templated ``script_location``, deleted and moved migrations directories,
symbolic links, a config outside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Repo

REVISION = ('revision = "{rev}"\ndown_revision = {down}\n\n\ndef upgrade():\n    pass\n\n\n'
            'def downgrade():\n    pass\n')
FLASK_ENV = ("from flask import current_app\nfrom alembic import context\n\n"
             "config = context.config\n"
             "target_metadata = current_app.extensions['migrate'].db.metadata\n")


def flask_migrate(repo: Repo) -> str:
    """The layout ``flask db init`` writes: alembic.ini inside migrations/, no
    script_location (Flask-Migrate hands alembic the directory)."""
    return repo.commit(
        "flask db init", "migrations/alembic.ini",
        "[alembic]\n# template used to generate migration files\n\n[loggers]\nkeys = root\n",
        "migrations/env.py", FLASK_ENV,
        "migrations/versions/a1b2_init.py", REVISION.format(rev="a1b2", down="None"))


def test_flask_migrate_layout_is_detected(repo: Repo) -> None:
    flask_migrate(repo)
    repo.commit("config", ".migration-guard.yaml", "projects:\n  - alembic_ini: "
                "migrations/alembic.ini\n    schema: [app/models.py]\n")
    assert repo.mg("projects").lines == [
        "migrations/versions", "  framework: alembic", "  root: migrations",
        "  migrations: migrations/versions", "  alembic_ini: migrations/alembic.ini",
        "  schema: app/models.py (schema in .migration-guard.yaml)"]


def test_flask_migrate_edit_of_merged_revision_fails(repo: Repo) -> None:
    base = flask_migrate(repo)
    repo.append("migrations/versions/a1b2_init.py", "# edited\n")
    repo.add()
    result = repo.mg("immutable", "--base", "HEAD")
    assert result.code == 1, result.err
    assert result.lines[1].startswith(
        f"migrations/versions/a1b2_init.py: MG102 migration edited after it was merged "
        f"(merged in HEAD at {base[:12]}")


def test_flask_migrate_apply_exits_2_naming_the_application(repo: Repo) -> None:
    flask_migrate(repo)
    repo.commit("config", ".migration-guard.yaml", "projects:\n  - alembic_ini: "
                "migrations/alembic.ini\n    schema: [app/models.py]\n")
    result = repo.mg("apply", "--all")
    assert result.code == 2
    assert result.err.splitlines() == [
        "migration-guard: error: migrations/env.py takes its database and metadata from the "
        "Flask application (flask.current_app): the apply check cannot build that application",
        "  hint: run the other checks for this project (`checks:` without apply), or give it "
        "an env.py that reads the URL from DATABASE_URL when no app is running"]


def test_alembic_ini_of_any_name(repo: Repo) -> None:
    repo.commit("two inis", "alembic2.ini", "[alembic]\nscript_location = db2\n",
                "db2/env.py", "target_metadata = None\n",
                "db2/versions/c3_init.py", REVISION.format(rev="c3", down="None"),
                ".migration-guard.yaml", "projects:\n  - alembic_ini: alembic2.ini\n")
    assert repo.mg("projects").lines[:5] == [
        "db2/versions", "  framework: alembic", "  root: .", "  migrations: db2/versions",
        "  alembic_ini: alembic2.ini"]


def test_two_alembic_projects_side_by_side(repo: Repo) -> None:
    repo.commit("two", "svc_a/alembic.ini", "[alembic]\nscript_location = %(here)s/alembic\n",
                "svc_a/alembic/env.py", "target_metadata = None\n",
                "svc_a/alembic/versions/a_init.py", REVISION.format(rev="a", down="None"),
                "svc_b/alembic.ini", "[alembic]\nscript_location = migrations\n",
                "svc_b/migrations/env.py", "target_metadata = None\n",
                "svc_b/migrations/versions/b_init.py", REVISION.format(rev="b", down="None"))
    names = [line for line in repo.mg("projects").lines if not line.startswith(" ")]
    assert names == ["svc_a/alembic/versions", "svc_b/migrations/versions"]


@pytest.mark.parametrize("location, why", [
    ("{alembic_dir}", "script_location = {alembic_dir} is filled in at run time"),
    ("%(migrations_dir)s", "script_location uses an interpolation alembic.ini does not "
     "define (InterpolationMissingOptionError)"),
    ("${ALEMBIC_DIR}", "script_location = ${ALEMBIC_DIR} is filled in at run time"),
])
@pytest.mark.parametrize("command", ["projects", "required", "immutable", "linear", "lint",
                                     "check"])
def test_unresolvable_script_location_exits_2_in_every_command(
        repo: Repo, location: str, why: str, command: str) -> None:
    repo.commit("templated", "alembic.ini", f"[alembic]\nscript_location = {location}\n",
                "migrations/env.py", "target_metadata = None\n",
                "migrations/versions/a_init.py", REVISION.format(rev="a", down="None"))
    result = repo.mg(command)
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == [
        f"migration-guard: error: alembic.ini: {why}",
        "  hint: declare the project under `projects:` in .migration-guard.yaml with its "
        "`alembic_ini`, `migrations` and `framework`"]


def test_unresolvable_script_location_is_checked_once_declared(repo: Repo) -> None:
    repo.commit("templated", "alembic.ini", "[alembic]\nscript_location = {alembic_dir}\n",
                "migrations/env.py", "target_metadata = None\n",
                "migrations/versions/a_init.py", REVISION.format(rev="a", down="None"),
                ".migration-guard.yaml", "projects:\n  - alembic_ini: alembic.ini\n"
                "    migrations: migrations/versions\n")
    repo.append("migrations/versions/a_init.py", "# edited\n")
    repo.add()
    result = repo.mg("immutable", "--base", "HEAD")
    assert result.code == 1, result.err
    assert " MG102 " in result.lines[1]


LAYOUTS = {
    "sql": ("db/migrations", ["001_init.sql", "002_more.sql"]),
    "flyway": ("sql", ["V1__init.sql", "V2__more.sql"]),
    "supabase": ("supabase/migrations", ["20240101000000_init.sql",
                                         "20240102000000_more.sql"]),
}


def _commit_layout(repo: Repo, directory: str, names: list[str]) -> str:
    files: list[str] = []
    for name in names:
        files += [f"{directory}/{name}", f"create table t_{len(files)} (id int);\n"]
    return repo.commit("migrations", *files)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_deleted_migrations_directory_is_mg103_for_every_merged_file(
        repo: Repo, layout: str) -> None:
    directory, names = LAYOUTS[layout]
    repo.commit("readme", "README.md", "hi\n")
    _commit_layout(repo, directory, names)
    repo.git("rm", "-rq", directory)
    result = repo.mg("immutable", "--base", "HEAD")
    assert result.code == 1, result.err
    assert [line.split(": ", 1)[1].split(" (")[0] for line in result.lines
            if " MG103 " in line] == ["MG103 migration deleted after it was merged"] * 2
    assert sorted(line.split(":", 1)[0] for line in result.lines if " MG103 " in line) == \
        sorted(f"{directory}/{n}" for n in names)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_moved_migrations_directory_is_mg103_in_range_mode(repo: Repo, layout: str) -> None:
    directory, names = LAYOUTS[layout]
    base = _commit_layout(repo, directory, names)
    repo.git("mv", directory, "moved_away")
    head = repo.commit("move the migrations")
    result = repo.mg("immutable", "--from-ref", base, "--to-ref", head)
    assert result.code == 1, result.err
    assert sorted(line.split(":", 1)[0] for line in result.lines if " MG103 " in line) == \
        sorted(f"{directory}/{n}" for n in names)


def test_symlinked_migrations_directory_is_followed(repo: Repo) -> None:
    repo.commit("real files", "database/all/001_init.sql", "create table a (id int);\n")
    (repo.path / "db").mkdir()
    (repo.path / "db" / "migrations").symlink_to("../database/all")
    base = repo.commit("link")
    repo.append("db/migrations/001_init.sql", "alter table a add b int;\n")  # via the link
    repo.add()
    assert repo.mg("projects").lines[:4] == [
        "db/migrations", "  framework: sql", "  root: db", "  migrations: database/all"]
    result = repo.mg("immutable", "--base", "HEAD")
    assert result.code == 1, result.err
    assert result.lines[1].startswith(
        "database/all/001_init.sql: MG102 migration edited after it was merged "
        f"(merged in HEAD at {base[:12]}")


def test_symlinked_migrations_directory_outside_the_repository_is_refused(
        repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "001_init.sql").write_text("create table a (id int);\n")
    repo.commit("config", "supabase/config.toml", "project_id = 'x'\n")
    (repo.path / "supabase" / "migrations").symlink_to(outside)
    repo.commit("link")
    result = repo.mg("check", "--all")
    assert result.code == 2
    assert result.err.splitlines() == [
        "migration-guard: error: supabase/migrations: the migrations directory is a symbolic "
        f"link to {outside}, outside the repository: it cannot be checked",
        "  hint: replace the link with the directory itself, or declare the real directory "
        "under `projects:` in the config"]


def test_config_outside_the_repository(repo: Repo, tmp_path: Path) -> None:
    repo.commit("files", "warehouse/001_init.sql", "create table a (id int);\n")
    shared = tmp_path / "team-config.yaml"
    shared.write_text("projects:\n  - framework: sql\n    migrations: warehouse\n")
    result = repo.mg("check", "--all", "--fast", "--config", str(shared))
    assert result.code == 0, result.err
    assert result.lines[-1] == "no findings (required, immutable, linear, lint over 1 project)"
