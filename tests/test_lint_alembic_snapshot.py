"""Alembic revisions are linted as the checked snapshot renders them: staged content, not the
work tree; ``script_location`` inside the snapshot; env.py's URL variable set; rendered SQL
cached outside the work tree so that a second run imports neither alembic nor SQLAlchemy."""

from __future__ import annotations

from pathlib import Path

from conftest import Repo, probe_imports
from layouts import BY_NAME, ENV_PY, revision, setup

NEW = "migrations/versions/0003_idx.py"
TIMEOUT = "op.execute(\"set lock_timeout = '2s'; set statement_timeout = '5s'\")\n    "
INDEX = TIMEOUT + "op.create_index('users_name_idx', 'users', ['name'])"
SAFE = TIMEOUT + "op.add_column('users', sa.Column('bio', sa.Text))"
FLAGGED = f"{NEW}:13:5 MG301"


def lint_codes(out: str) -> list[str]:
    return [line.split(": ")[0] + " " + line.split(": ")[1].split(" ")[0]
            for line in out.splitlines() if ": MG" in line]


def feature(repo: Repo, body: str, path: str = NEW, rev: str = "0003", down: str = "0002",
            ) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    repo.write(path, revision(rev, down, body))
    repo.add()


def test_lint_reads_the_staged_revision_not_the_work_tree(repo: Repo) -> None:
    feature(repo, SAFE)
    repo.write(NEW, revision("0003", "0002", INDEX))  # edited, not staged
    result = repo.mg("lint")
    assert (result.code, lint_codes(result.out)) == (0, []), result.out + result.err


def test_staged_risky_revision_fails_whatever_the_work_tree_says(repo: Repo) -> None:
    feature(repo, INDEX)
    repo.write(NEW, revision("0003", "0002", SAFE))  # fixed, not staged
    result = repo.mg("lint")
    assert (result.code, lint_codes(result.out)) == (1, [FLAGGED]), result.out + result.err


def test_script_location_resolves_in_the_snapshot_from_any_directory(repo: Repo,
                                                                      tmp_path: Path) -> None:
    feature(repo, INDEX)
    (repo.path / "migrations" / "env.py").unlink()  # the work tree cannot serve rendering
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = repo.mg("lint", "-C", str(repo.path), cwd=elsewhere)
    assert (result.code, lint_codes(result.out)) == (1, [FLAGGED]), result.out + result.err
    result = repo.mg("lint", cwd=repo.path / "app")
    assert (result.code, lint_codes(result.out)) == (1, [FLAGGED]), result.out + result.err


def test_the_configured_url_variable_is_set_while_rendering(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    env_py = ENV_PY.replace("from alembic import context\n",
                            "import os\n\nfrom alembic import context\n").replace(
        'url=config.get_main_option("sqlalchemy.url")', 'url=os.environ["APP_DB_URL"]')
    repo.commit("env reads APP_DB_URL", "migrations/env.py", env_py)
    repo.branch("feature")
    repo.write(NEW, revision("0003", "0002", INDEX))
    repo.add()
    result = repo.mg("lint")
    assert result.code == 2
    assert "KeyError: 'APP_DB_URL'" in result.err
    repo.write(".migration-guard.yaml",
               "projects:\n  - alembic_ini: alembic.ini\n    database_url_env: APP_DB_URL\n")
    repo.add()
    result = repo.mg("lint")
    assert (result.code, lint_codes(result.out)) == (1, [FLAGGED]), result.out + result.err


def test_chain_of_new_revisions_renders_each_and_knows_earlier_tables(repo: Repo) -> None:
    feature(repo, "op.create_table('teams', sa.Column('id', sa.BigInteger, "
            "sa.Identity(always=True), primary_key=True), "
            "sa.Column('created_at', sa.DateTime(timezone=True)))",
            path="migrations/versions/0003_teams.py")
    repo.write("migrations/versions/0004_idx.py",
               revision("0004", "0003", "op.create_index('teams_id_idx', 'teams', ['id'])"))
    repo.add()
    result = repo.mg("lint")
    assert (result.code, lint_codes(result.out)) == (0, []), result.out + result.err


def test_revision_with_depends_on_renders_from_the_whole_history(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    repo.write(NEW, revision("0003", "0002", INDEX).replace("depends_on = None",
                                                            "depends_on = '0001'"))
    repo.add()
    result = repo.mg("lint")
    assert (result.code, lint_codes(result.out)) == (1, [FLAGGED]), result.out + result.err


def probe(repo: Repo, *argv: str, cache: Path) -> list[str]:
    """Run the CLI in a fresh interpreter; the last line says what it imported."""
    return probe_imports(repo, list(argv), cache=cache, modules=("alembic", "sqlalchemy"))


def test_second_run_of_the_same_commit_imports_neither_alembic_nor_sqlalchemy(
        repo: Repo, tmp_path: Path) -> None:
    feature(repo, INDEX)
    cache = tmp_path / "cache"
    first = probe(repo, "check", "--fast", cache=cache)
    assert first[-1] == "exit 1 imported ['alembic', 'sqlalchemy']"
    assert len(list((cache / "migration-guard" / "lint-sql").glob("*.sql"))) == 1
    second = probe(repo, "check", "--fast", cache=cache)
    assert second[-1] == "exit 1 imported []"
    assert second == [*first[:-1], second[-1]]
    repo.write("migrations/env.py", ENV_PY + "\n# env.py changed: render again\n")
    repo.add()
    assert probe(repo, "lint", cache=cache)[-1] == "exit 1 imported ['alembic', 'sqlalchemy']"


def test_second_run_of_the_same_revisions_parses_no_sql(repo: Repo, tmp_path: Path) -> None:
    """The findings of the same revisions, options and lint code are read back whole
    (nor is Python parsed, nor typing or argparse imported); an edit of the revision lints
    it again."""
    feature(repo, INDEX)
    modules = ("alembic", "sqlalchemy", "pglast", "ast", "typing", "argparse")
    first = probe_imports(repo, ["lint"], cache=tmp_path, modules=modules)
    assert first[-1] == \
        "exit 1 imported ['alembic', 'argparse', 'ast', 'pglast', 'sqlalchemy', 'typing']"
    second = probe_imports(repo, ["lint"], cache=tmp_path, modules=modules)
    assert second == [*first[:-1], "exit 1 imported []"]
    repo.write(NEW, revision("0003", "0002", SAFE))
    repo.add()
    assert probe_imports(repo, ["lint"], cache=tmp_path, modules=modules)[-1] == \
        "exit 0 imported ['alembic', 'argparse', 'ast', 'pglast', 'sqlalchemy', 'typing']"


def test_an_unwritable_cache_only_means_rendering_again(repo: Repo, tmp_path: Path) -> None:
    feature(repo, INDEX)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would be\n")
    for _ in range(2):
        assert probe(repo, "lint", cache=blocked)[-1] == \
            "exit 1 imported ['alembic', 'sqlalchemy']"


def test_only_sql_staged_imports_nothing_from_alembic(repo: Repo, tmp_path: Path) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.branch("feature")
    repo.write("supabase/migrations/20240105000000_idx.sql",
               "create index users_id_idx on users (id);\n")
    repo.add()
    assert probe(repo, "check", "--fast", cache=tmp_path)[-1] == "exit 1 imported []"


def test_range_mode_lints_the_to_ref_not_the_work_tree(repo: Repo) -> None:
    feature(repo, INDEX)
    repo.git("commit", "-q", "-m", "risky revision")
    repo.write(NEW, revision("0003", "0002", SAFE))  # the work tree disagrees
    result = repo.mg("lint", "--from-ref", "main", "--to-ref", "feature")
    assert (result.code, lint_codes(result.out)) == (1, [FLAGGED]), result.out + result.err
