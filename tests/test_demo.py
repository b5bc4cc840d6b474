"""``migration-guard demo``: real pre-commit, real ``git commit``, the embedded PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, Result, clean_env

from migration_guard.commands.demo import key_lines

VERDICTS = [
    "(a) a schema change without a migration",
    "    verdict: blocked by MG101, as expected",
    "(b) an edit of a merged migration",
    "    verdict: blocked by MG102, as expected",
    "(c) a migration that fails on a table with rows",
    "    verdict: blocked by MG207, as expected",
    "(d) a correct change: schema and a migration that applies",
    "    verdict: accepted, as expected",
]


def demo(tmp_path: Path, home: Path, *args: str) -> Result:
    """Run the demo as a user would, from an empty directory, with a hostile git config."""
    # A global config that would break a demo that is not isolated from it.
    (home / ".gitconfig").write_text("[core]\n\thooksPath = /nonexistent/hooks\n"
                                     "[commit]\n\tgpgsign = true\n")
    cwd, temp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    temp.mkdir()
    env = clean_env(home)
    env.update(PYTHONPATH=str(ROOT), TMPDIR=str(temp), XDG_CACHE_HOME=str(tmp_path / "cache"),
               SKIP="migrations-required,migrations-apply")
    proc = subprocess.run([sys.executable, "-m", "migration_guard", "demo", *args], cwd=cwd,
                          env=env, capture_output=True, check=False)
    assert list(cwd.iterdir()) == []
    assert not (home / ".cache" / "pre-commit").exists()
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.mark.slow
def test_demo_blocks_three_bad_commits_and_accepts_the_good_one(tmp_path: Path,
                                                                  home: Path) -> None:
    result = demo(tmp_path, home)
    assert (result.code, result.err) == (0, ""), result.out
    assert [line for line in result.lines if line.startswith(("(", "    verdict:"))] == VERDICTS
    assert ("    supabase/schemas/users.sql: MG101 schema source changed but no migration was "
            "added to supabase/migrations/ (declarative schemas in supabase/schemas/)"
            in result.lines)
    assert ("    supabase/migrations/20240102000000_add_email.sql:3: MG207 fails on the base's "
            'schema with 3 sample rows per table: column "email" of relation "users" contains '
            "null values [SQLSTATE 23502]" in result.lines)
    assert re.fullmatch(r"demo: 4 of 4 scenarios behaved as expected \(\d+\.\d s\)",
                        result.lines[-1])
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary directory is gone


@pytest.mark.slow
def test_demo_keep_leaves_the_repository_with_the_accepted_commit(tmp_path: Path,
                                                                  home: Path) -> None:
    result = demo(tmp_path, home, "--keep")
    assert result.code == 0, result.out
    match = re.fullmatch(r"the repository is kept in (.+)", result.lines[-1])
    assert match is not None
    kept = Path(match.group(1))
    assert kept.parent.parent == tmp_path / "tmp"
    log = subprocess.run(["git", "log", "--format=%s", "main..feature"], cwd=kept,
                         capture_output=True, text=True, check=True).stdout
    assert log == "users: add email\n"
    assert (kept.parent / "pre-commit-home").is_dir()


def test_key_lines_keep_hook_results_findings_and_their_hints() -> None:
    output = "\n".join([
        "migrations required for schema changes...........Failed",
        "- hook id: migrations-required",
        "- exit code: 1",
        "",
        "migration-guard: base: main at 1a2b3c4d5e6f (default branch); checked: the index",
        "a.sql: MG101 schema source changed",
        "  hint: generate one",
        "1 finding (required over 1 project)",
        "  hint: not after a finding",
        "migration SQL is safe....(no files to check)Skipped",
    ])
    assert key_lines(output) == [
        "migrations required for schema changes...........Failed",
        "a.sql: MG101 schema source changed",
        "  hint: generate one",
        "migration SQL is safe....(no files to check)Skipped",
    ]
