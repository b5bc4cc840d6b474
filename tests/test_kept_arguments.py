"""A command line argparse read is kept: the same line again runs its command with the same
options, without importing argparse; a line argparse refuses, or that asks for help, is
never kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Repo, probe_imports

from migration_guard.cli import build_parser
from migration_guard.commands.replay import keep_arguments, kept_arguments

MIGRATION = "SET lock_timeout = '2s';\nCREATE TABLE orders (id bigint PRIMARY KEY);\n"


def probe(repo: Repo, *argv: str, cache: Path) -> list[str]:
    return probe_imports(repo, list(argv), cache=cache, modules=("argparse",))


@pytest.fixture
def sql_repo(repo: Repo) -> Repo:
    repo.commit("init", "db/V1__init.sql", MIGRATION)
    repo.write("db/V2__orders_note.sql", "SET lock_timeout = '2s';\n"
               "ALTER TABLE orders ADD COLUMN note text;\n")
    repo.add()
    return repo


@pytest.mark.parametrize("hook", ["required", "immutable", "linear", "lint"])
def test_a_hook_run_again_takes_its_options_from_the_kept_line(
        sql_repo: Repo, tmp_path: Path, hook: str) -> None:
    first = probe(sql_repo, hook, cache=tmp_path)
    assert first[-1] == "exit 0 imported ['argparse']"
    assert probe(sql_repo, hook, cache=tmp_path) == [*first[:-1], "exit 0 imported []"]


def test_options_of_a_kept_line_are_the_ones_argparse_read(sql_repo: Repo,
                                                           tmp_path: Path) -> None:
    """``--format json`` taken from the kept line still renders JSON, and a different line
    (``--format text``) is parsed anew."""
    json_run = probe(sql_repo, "check", "--fast", "--format", "json", cache=tmp_path)
    assert probe(sql_repo, "check", "--fast", "--format", "json", cache=tmp_path) == \
        [*json_run[:-1], "exit 0 imported []"]
    assert json_run[0].startswith("{")
    text_run = probe(sql_repo, "check", "--fast", "--format", "text", cache=tmp_path)
    assert text_run[-1] == "exit 0 imported ['argparse']"
    assert not text_run[0].startswith("{")


def test_a_line_argparse_refuses_is_refused_every_time(sql_repo: Repo) -> None:
    for _ in range(2):
        result = sql_repo.mg("required", "--no-such-option")
        assert (result.code, result.out) == (2, "")
        assert result.err.splitlines()[-1] == \
            "migration-guard: error: unrecognized arguments: --no-such-option"


def test_help_is_printed_every_time(sql_repo: Repo) -> None:
    first = sql_repo.mg("required", "--help")
    assert first.code == 0 and first.out.startswith("usage: migration-guard required")
    assert sql_repo.mg("required", "--help") == first


@pytest.mark.parametrize("argv", [
    ["required"],
    ["lint", "--from-ref", "main", "--to-ref", "HEAD", "--format=json"],
    ["check", "--fast", "--no-fetch", "--report", "junit=out.xml", "--report", "sarif=o.sarif"],
    ["apply", "--database-url", "postgresql://u@h/db", "-C", "sub"],
    ["history", "-n", "5"],
])
def test_a_kept_line_holds_what_argparse_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              argv: list[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parsed = build_parser(argv[0]).parse_args(argv)
    assert kept_arguments(argv) is None
    keep_arguments(argv, parsed)
    kept = kept_arguments(argv)
    assert kept is not None and vars(kept) == vars(parsed)
    assert kept_arguments([*argv, "--format", "json"]) is None


def test_a_kept_line_naming_another_command_is_not_used(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """What is kept for ``required`` runs ``required``, whatever the cache file says."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parsed = build_parser("apply").parse_args(["apply"])
    keep_arguments(["required"], parsed)
    assert kept_arguments(["required"]) is None
