"""How the CLI ends and what its header says: an annotation when a GitHub step could not
check, a quiet end when stdout's reader is gone, the staged config named when the work
tree's differs, and the extra report files ``check`` writes in the same run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from conftest import Repo

SUPA = "supabase/migrations"
INIT = f"{SUPA}/20240101000000_init.sql"
NEW = f"{SUPA}/20240102000000_index.sql"


@pytest.fixture
def staged_index(repo: Repo) -> str:
    """main with one migration and a config; staged: a new migration with an unsafe index."""
    repo.commit("base", INIT, "create table users (id bigint);\n",
                ".migration-guard.yaml", "checks: [required, immutable, linear, lint]\n")
    repo.write(NEW, "set lock_timeout = '2s'; set statement_timeout = '60s';\n"
                    "create index users_id on users (id);\n")
    repo.add()
    base = repo.git("rev-parse", "HEAD").strip()[:12]
    return f"base: main at {base} (default branch); checked: the index (staged changes)"


# -- exit 2 in GitHub Actions -------------------------------------------------------------


def test_github_format_annotates_a_run_that_could_not_check(repo: Repo) -> None:
    repo.commit("base", INIT, "create table users (id bigint);\n",
                ".migration-guard.yaml", "checks: [lint, nope]\n")
    result = repo.mg("check", "--format", "github")
    assert result.code == 2
    message = ("migration-guard: error: .migration-guard.yaml:1: checks: 'nope' is not "
               "allowed")
    assert result.err.splitlines()[0].startswith(message)
    (annotation,) = result.lines
    assert annotation.startswith("::error title=migration-guard could not check::"
                                 ".migration-guard.yaml:1: checks: 'nope' is not allowed")
    assert "%0Ahint: " in annotation


def test_other_formats_keep_stdout_empty_on_exit_2(repo: Repo) -> None:
    repo.commit("base", INIT, "create table users (id bigint);\n")
    result = repo.mg("check", "--format", "text", "--checks", "nope")
    assert (result.code, result.out) == (2, "")
    assert result.err == ("migration-guard: error: check not available yet: nope\n"
                          "  hint: run any of: required, immutable, linear, lint, apply\n")
    result = repo.mg("check", "--format=github", "--checks", "nope")
    assert (result.code, result.lines) == (2, [
        "::error title=migration-guard could not check::check not available yet: nope"
        "%0Ahint: run any of: required, immutable, linear, lint, apply"])


# -- a closed stdout ------------------------------------------------------------------------


def run_into_closed_pipe(repo: Repo, *args: str) -> subprocess.CompletedProcess[bytes]:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "migration_guard", *args], cwd=repo.path,
                              env=repo.env, stdout=write_end, stderr=subprocess.PIPE,
                              check=False, timeout=120)
    finally:
        os.close(write_end)


def test_check_into_a_closed_pipe_ends_as_sigpipe_would(repo: Repo, staged_index: str) -> None:
    proc = run_into_closed_pipe(repo, "check")
    assert (proc.returncode, proc.stderr) == (141, b"")


def test_an_error_into_a_closed_pipe_still_says_it_on_stderr(repo: Repo) -> None:
    """Could not check (2) outweighs the closed pipe: the annotation is lost, not the error."""
    repo.commit("base", INIT, "create table users (id bigint);\n")
    proc = run_into_closed_pipe(repo, "check", "--format", "github", "--checks", "nope")
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines()[0] == (
        "migration-guard: error: check not available yet: nope")


# -- the staged config ----------------------------------------------------------------------


def test_header_says_the_staged_config_was_used(repo: Repo, staged_index: str) -> None:
    repo.write(".migration-guard.yaml", "checks: [required]\n")  # not staged
    result = repo.mg("check")
    assert result.code == 1
    assert result.lines[0] == (f"migration-guard: {staged_index}; config: .migration-guard.yaml "
                               "as staged (its unstaged changes are not used)")
    assert result.lines[-1] == "1 finding (required, immutable, linear, lint over 1 project)"


def test_header_names_an_unstaged_config_that_is_not_used(repo: Repo) -> None:
    repo.commit("base", INIT, "create table users (id bigint);\n")
    repo.write(".migration-guard.yaml", "checks: [required]\n")
    result = repo.mg("check")
    assert result.lines[0].endswith(
        "; config: none staged (the unstaged .migration-guard.yaml is not used)")
    assert result.lines[-1] == "no findings (required, immutable, linear, lint over 1 project)"


def test_no_note_when_the_work_tree_config_means_the_same(repo: Repo, staged_index: str) -> None:
    with (repo.path / ".migration-guard.yaml").open("a") as config:
        config.write("# a comment, not staged\n")
    assert repo.mg("check").lines[0] == f"migration-guard: {staged_index}"
    repo.git("add", ".migration-guard.yaml")
    repo.write(".migration-guard.yaml", "checks: [lint]\n")
    repo.git("add", ".migration-guard.yaml")
    assert repo.mg("check").lines[0] == f"migration-guard: {staged_index}"


# -- check's options ------------------------------------------------------------------------


def test_check_writes_report_files_beside_its_output(repo: Repo, staged_index: str) -> None:
    """Paths are relative to -C, as every path the command is given."""
    result = repo.mg("check", "--report-file", "gitlab=cq.json",
                     "--report-file", "junit=junit.xml", "-C", SUPA)
    assert result.code == 1
    assert result.lines[1] == f"{NEW}:2:1: MG301 " + (
        "CREATE INDEX users_id on existing table \"users\" without CONCURRENTLY blocks every "
        "INSERT, UPDATE and DELETE on it until the index is built")
    assert result.lines[-1] == "1 finding (required, immutable, linear, lint over 1 project)"
    issues = json.loads((repo.path / SUPA / "cq.json").read_text())
    assert [(i["check_name"], i["location"]) for i in issues] == [
        ("MG301 index-without-concurrently", {"path": NEW, "lines": {"begin": 2}})]
    root = ET.parse(repo.path / SUPA / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures")) == ("4", "1")


def test_check_refuses_a_report_file_in_a_missing_directory(repo: Repo, staged_index: str) -> None:
    result = repo.mg("check", "--report-file", "gitlab=no/such/dir/cq.json")
    assert result.code == 2
    assert result.err.splitlines()[-2:] == [
        f"migration-guard: error: cannot write the gitlab report to {repo.path}/no/such/dir/"
        "cq.json: No such file or directory",
        "  hint: give --report-file a path in a directory that exists"]


def test_check_refuses_a_report_file_in_a_text_format(repo: Repo) -> None:
    result = repo.mg("check", "--report-file", "text=out.txt")
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        "migration-guard check: error: argument --report-file: 'text=out.txt' is not "
        "FORMAT=FILE with FORMAT one of json, sarif, junit, gitlab")


def test_check_takes_the_database_url_apply_takes(repo: Repo, staged_index: str) -> None:
    url = "postgresql://u:topsecret@127.0.0.1:1/postgres"
    result = repo.mg("check", "--checks", "apply", "--database-url", url)
    assert result.code == 2
    assert "topsecret" not in result.err
    assert "127.0.0.1:1" in result.err
