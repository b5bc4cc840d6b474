"""A ``lint FILE...`` run kept whole: the same run again prints exactly what it printed and
exits as it did without importing the config loader or the linter (nor argparse: see
test_kept_arguments.py); anything it read that changed, or a command line argparse would
read otherwise, runs it in full."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Repo, probe_imports

from migration_guard.commands.replay import parse

INDEX = ("SET lock_timeout = '2s';\nSET statement_timeout = '5s';\n"
         "CREATE INDEX orders_user_id_idx ON orders (user_id);\n")
FINDING = ('db/V2__index.sql:3:1: MG301 CREATE INDEX orders_user_id_idx on existing table '
           '"orders" without CONCURRENTLY blocks every INSERT, UPDATE and DELETE on it until '
           'the index is built')
HEADER = "migration-guard: linting 1 file(s) as named"
#: What a full run imports and a replay does not.
MODULES = ("migration_guard.config", "migration_guard.lint.batch")


def probe(repo: Repo, *argv: str, cache: Path) -> list[str]:
    """Run the CLI in a fresh interpreter; the last line says which of MODULES it imported."""
    return probe_imports(repo, list(argv), cache=cache, modules=MODULES)


def full(status: int) -> str:
    return f"exit {status} imported {sorted(MODULES)}"


def test_the_same_run_again_is_replayed(repo: Repo, tmp_path: Path) -> None:
    repo.write("db/V2__index.sql", INDEX)
    first = probe(repo, "lint", "db/V2__index.sql", cache=tmp_path)
    assert [first[0], first[1].startswith(FINDING), first[-1]] == [HEADER, True, full(1)]
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path) == \
        [*first[:-1], "exit 1 imported []"]


def test_options_in_either_spelling_and_place_are_the_same_run(repo: Repo,
                                                                tmp_path: Path) -> None:
    repo.write("db/V2__index.sql", INDEX)
    first = probe(repo, "lint", "--format=json", "db/V2__index.sql", cache=tmp_path)
    assert first[-1] == full(1)
    assert probe(repo, "lint", "db/V2__index.sql", "--format", "json", cache=tmp_path) == \
        [*first[:-1], "exit 1 imported []"]


def test_an_edited_file_runs_in_full(repo: Repo, tmp_path: Path) -> None:
    repo.write("db/V2__index.sql", INDEX)
    probe(repo, "lint", "db/V2__index.sql", cache=tmp_path)
    repo.write("db/V2__index.sql", INDEX.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY"))
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path) == [
        HEADER, "no findings (lint over 1 project)", full(0)]


def test_a_config_file_that_appears_runs_in_full(repo: Repo, tmp_path: Path) -> None:
    """No config was read the first time (none existed): a pyproject.toml that now holds
    one is a change all the same."""
    repo.git("init", "-q")
    repo.write("db/V2__index.sql", INDEX)
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path)[-1] == full(1)
    repo.write("pyproject.toml", '[tool.migration-guard.lint]\nignore = ["MG301"]\n')
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path) == [
        HEADER, "no findings (lint over 1 project)", full(0)]


def test_an_explicit_config_outside_the_repository_is_read_again(repo: Repo,
                                                                 tmp_path: Path) -> None:
    config = tmp_path / "team.yaml"
    config.write_text("lint:\n  ignore: [MG301]\n")
    repo.write("db/V2__index.sql", INDEX)
    argv = ("lint", "--config", str(config), "db/V2__index.sql")
    assert probe(repo, *argv, cache=tmp_path / "cache")[-1] == full(0)
    assert probe(repo, *argv, cache=tmp_path / "cache")[-1] == "exit 0 imported []"
    config.write_text("lint:\n  ignore: [MG302]\n")
    assert probe(repo, *argv, cache=tmp_path / "cache")[-1] == full(1)


def test_a_repository_made_below_reads_its_own_config(repo: Repo) -> None:
    """The config is the repository's: after a ``git init`` in the folder linted, the file
    of the repository above is no longer read, though it did not change."""
    repo.write(".migration-guard.yaml", "lint:\n  ignore: [MG301]\n")
    repo.write("service/db/V2__index.sql", INDEX)
    service = repo.path / "service"
    assert repo.mg("lint", "db/V2__index.sql", cwd=service).code == 0
    assert repo.mg("lint", "db/V2__index.sql", cwd=service).code == 0
    repo.git("init", "-q", str(service))
    result = repo.mg("lint", "db/V2__index.sql", cwd=service)
    assert (result.code, result.lines[1].startswith(FINDING)) == (1, True)


def test_a_removed_file_is_an_error_not_a_replay(repo: Repo) -> None:
    repo.write("db/V2__index.sql", INDEX)
    assert repo.mg("lint", "db/V2__index.sql").code == 1
    (repo.path / "db/V2__index.sql").unlink()
    result = repo.mg("lint", "db/V2__index.sql")
    assert (result.code, result.err.splitlines()) == (2, [
        "migration-guard: error: cannot read db/V2__index.sql: No such file or directory",
        "  hint: check the file name"])


def test_a_line_argparse_refuses_is_refused_after_a_kept_run(repo: Repo) -> None:
    """A file name after an option is not read as one (argparse's rule for a list of
    files), however alike the runs look."""
    repo.write("db/V1__a.sql", "SELECT 1;\n")
    repo.write("db/V2__index.sql", INDEX)
    assert repo.mg("lint", "db/V1__a.sql", "db/V2__index.sql", "--format", "json").code == 1
    result = repo.mg("lint", "db/V1__a.sql", "--format", "json", "db/V2__index.sql")
    assert (result.code, result.err.splitlines()[-1]) == (
        2, "migration-guard: error: unrecognized arguments: db/V2__index.sql")


def test_github_format_runs_in_full_every_time(repo: Repo, tmp_path: Path) -> None:
    """It appends the job summary too: a replay of stdout alone would lose it."""
    summary = tmp_path / "summary.md"
    repo.write("db/V2__index.sql", INDEX)
    env = dict(repo.env, GITHUB_STEP_SUMMARY=str(summary))
    runs = [repo.mg("lint", "--format", "github", "db/V2__index.sql", env=env)
            for _ in range(2)]
    assert [r.code for r in runs] == [1, 1] and runs[0].out == runs[1].out
    text = summary.read_text()
    assert text.count("MG301") == 2 * runs[0].out.count("MG301") > 0


@pytest.mark.parametrize(("argv", "kept"), [
    (["lint", "a.sql", "b.sql"], ("text", None, ("a.sql", "b.sql"))),
    (["lint", "--format", "json", "a.sql"], ("json", None, ("a.sql",))),
    (["lint", "a.sql", "--config=c.yaml", "--format=sarif"], ("sarif", "c.yaml", ("a.sql",))),
    (["lint"], None),  # the staged change, not files
    (["lint", "a.sql", "--format", "json", "b.sql"], None),  # argparse refuses it
    (["lint", "--format", "github", "a.sql"], None),  # also writes the job summary
    (["lint", "--format", "text", "--format", "json", "a.sql"], None),
    (["lint", "--form", "json", "a.sql"], None),  # argparse's abbreviations are its own
    (["lint", "--format", "a.sql"], None),
    (["lint", "-C", "db", "a.sql"], None),
    (["lint", "--", "a.sql"], None),
    (["lint", "", "a.sql"], None),
    (["linear", "a.sql"], None),
], ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_only_lines_read_as_argparse_reads_them_are_kept(
        argv: list[str], kept: tuple[str, str | None, tuple[str, ...]] | None) -> None:
    run = parse(argv, "/repo")
    assert (None if run is None else (run.fmt, run.config, run.files)) == kept


def test_an_installed_package_is_stamped_by_its_record(tmp_path: Path) -> None:
    """Every install and reinstall writes RECORD anew; a source tree has none, and then
    each file counts (an edit changes the stamp)."""
    from migration_guard.commands.replay import _package_stamp

    package = tmp_path / "site" / "migration_guard"
    package.mkdir(parents=True)
    (package / "cli.py").write_text("one\n")
    walked = _package_stamp(str(package), "1.0")
    assert [line.split(":")[0] for line in walked] == [str(package / "cli.py")]
    (package / "cli.py").write_text("two, longer\n")
    assert _package_stamp(str(package), "1.0") != walked
    record = tmp_path / "site" / "migration_guard-1.0.dist-info" / "RECORD"
    record.parent.mkdir()
    record.write_text("migration_guard/cli.py,,\n")
    installed = _package_stamp(str(package), "1.0")
    assert [line.split(":")[0] for line in installed] == [str(record)]
    record.unlink()
    record.write_text("migration_guard/cli.py,sha256=x,12\n")
    assert _package_stamp(str(package), "1.0") != installed


def test_package_folders_are_where_an_import_finds_them() -> None:
    import yaml

    from migration_guard.cache import package_folders

    assert package_folders("yaml") == [str(Path(yaml.__file__).parent)]
    assert package_folders("no_such_package_here") == []
