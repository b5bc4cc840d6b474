"""Git states and odd inputs: each gets the right verdict and exit code, with a clear message."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Repo
from layouts import BY_NAME, revision, setup

SUPA = "supabase/migrations"
INIT = f"{SUPA}/20240101000000_init.sql"


@pytest.fixture
def supa(repo: Repo) -> Repo:
    setup(repo, BY_NAME["supabase"])
    return repo


def test_not_a_git_repository(tmp_path: Path, repo: Repo) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    result = repo.mg("check", cwd=outside)
    assert result.code == 2
    assert result.err.splitlines() == [
        f"migration-guard: error: not a git repository: {outside}",
        "  hint: run migration-guard inside a git checkout (git init, or cd into one)",
    ]


def test_unborn_head_first_commit_is_valid(repo: Repo) -> None:
    repo.write(INIT, "create table a (id int);\n")
    repo.add()
    result = repo.mg("check")
    assert result.code == 0, result.err
    assert result.lines[0] == ("migration-guard: base: none (first commit: every migration is "
                               "new); checked: the index (staged changes)")


def test_detached_head_uses_default_branch(supa: Repo) -> None:
    supa.git("checkout", "-q", "--detach", "HEAD")
    supa.append(INIT, "-- edit\n")
    supa.add()
    result = supa.mg("immutable")
    assert result.code == 1
    assert "MG102" in result.out


def test_base_ref_that_does_not_exist(supa: Repo) -> None:
    result = supa.mg("immutable", "--base", "origin/nope")
    assert result.code == 2
    assert result.err.splitlines() == [
        "migration-guard: error: base origin/nope (--base) does not exist in this repository",
        "  hint: fetch it: git fetch origin nope",
    ]


def test_no_base_branch_at_all_fails_closed(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "trunk")
    repo.commit("init", INIT, "create table a (id int);\n")
    result = repo.mg("immutable")
    assert result.code == 2
    assert "no base branch found" in result.err
    assert "--base REF" in result.err


def test_shallow_clone_without_base_fails_closed(supa: Repo, tmp_path: Path) -> None:
    supa.branch("feature")
    supa.commit("more", f"{SUPA}/20240105000000_more.sql", "select 1;\n")
    supa.commit("more2", f"{SUPA}/20240106000000_more.sql", "select 2;\n")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "feature",
                    f"file://{supa.path}", str(clone)], env=supa.env, check=True)
    shallow = Repo(clone, supa.env)
    result = shallow.mg("immutable", "--base", "origin/main")
    assert result.code == 2
    assert "shallow" in result.err
    assert "fetch-depth: 0" in result.err


def test_range_mode_from_pre_commit_environment(supa: Repo) -> None:
    supa.branch("feature")
    supa.append(INIT, "-- sneaky edit\n")
    supa.commit("edit merged migration")
    env = dict(supa.env, PRE_COMMIT_FROM_REF="main", PRE_COMMIT_TO_REF="HEAD")
    result = supa.mg("immutable", env=env)
    assert result.code == 1
    assert result.lines[0].startswith("migration-guard: base: main at ")
    assert result.lines[0].endswith("(--from-ref); checked: HEAD at "
                                    + supa.git("rev-parse", "HEAD")[:12])
    assert result.lines[1].startswith(f"{INIT}: MG102 ")


@pytest.mark.parametrize("name", [
    "20240102000001_a b.sql", "20240102000001_a\nb.sql", '20240102000001_"q".sql',
    "20240102000001_café.sql", "20240102000001_-x.sql", "20240102000001_it's.sql",
])
def test_odd_file_names_are_compared_exactly(supa: Repo, name: str) -> None:
    path = f"{SUPA}/{name}"
    supa.commit("odd name", path, "select 1;\n")
    supa.branch("feature")
    supa.append(path, "-- edit\n")
    supa.add()
    result = supa.mg("immutable")
    assert result.code == 1
    shown = path.replace("\n", "\\n")
    assert result.lines[1].startswith(f"{shown}: MG102 migration edited")
    assert len(result.lines) == 4
    run_printed_restore(supa, result.lines[2])
    assert supa.git("status", "--porcelain", "-z") == ""
    assert (supa.path / path).read_text() == "select 1;\n"


def run_printed_restore(repo: Repo, hint_line: str) -> None:
    """Run the hint's restore command in bash exactly as printed."""
    prefix, suffix = "  hint: restore it: ", " and put the change in a new migration"
    assert hint_line.startswith(prefix) and hint_line.endswith(suffix), hint_line
    command = hint_line[len(prefix):-len(suffix)]
    subprocess.run(["bash", "-c", command], cwd=repo.path, env=repo.env, check=True)


def test_leading_dash_file_name_in_repo_root_dir(repo: Repo) -> None:
    repo.commit("init", "migrations/-001_init.sql", "select 1;\n",
                "migrations/001_init.sql", "select 1;\n")
    repo.branch("feature")
    repo.git("rm", "-q", "--", "migrations/-001_init.sql")
    result = repo.mg("immutable", "--base", "main")
    assert result.code == 0  # "-001_init.sql" matches no pattern: not a migration


def test_non_utf8_file_name(supa: Repo) -> None:
    raw = os.fsdecode(b"supabase/migrations/20240102000001_caf\xe9.sql")
    supa.commit("latin1 name", raw, "select 1;\n")
    supa.branch("feature")
    supa.git("rm", "-q", "--", raw)
    result = supa.mg("immutable")
    assert result.code == 1
    assert result.lines[1].startswith(
        "supabase/migrations/20240102000001_caf\\xe9.sql: MG103 migration deleted")
    assert result.lines[2].endswith(
        "-- $'supabase/migrations/20240102000001_caf\\xe9.sql' and put the change in a new "
        "migration")
    run_printed_restore(supa, result.lines[2])
    assert supa.git("status", "--porcelain", "-z") == ""


def test_binary_and_non_utf8_new_files(supa: Repo) -> None:
    supa.branch("feature")
    supa.write(f"{SUPA}/20240105000000_bin.sql", b"\x00\x01\x02binary")
    supa.write(f"{SUPA}/20240105000001_latin.sql", "select 'café';\n".encode("latin-1"))
    supa.add()
    result = supa.mg("linear")
    assert result.code == 1
    assert result.lines[1:-1] == [
        f"{SUPA}/20240105000000_bin.sql: MG122 migration is a binary file (it contains NUL "
        "bytes)",
        "  hint: commit the migration as UTF-8 text",
    ]


def test_lfs_pointer_and_conflict_markers(supa: Repo) -> None:
    supa.branch("feature")
    supa.write(f"{SUPA}/20240105000000_lfs.sql",
               "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n")
    supa.write(f"{SUPA}/20240105000001_conflict.sql",
               "select 1;\n<<<<<<< HEAD\nselect 2;\n=======\nselect 3;\n>>>>>>> other\n")
    supa.add()
    result = supa.mg("linear")
    assert result.code == 1
    assert f"{SUPA}/20240105000000_lfs.sql:1: MG122 migration is a Git LFS pointer, not SQL" \
        in result.lines
    assert f"{SUPA}/20240105000001_conflict.sql:2: MG123 migration contains a merge conflict " \
        "marker" in result.lines


def test_symlinked_migration_is_refused(supa: Repo) -> None:
    supa.branch("feature")
    os.symlink("20240101000000_init.sql", supa.path / SUPA / "20240105000000_link.sql")
    supa.add()
    result = supa.mg("linear")
    assert result.code == 1
    assert result.lines[1] == (f"{SUPA}/20240105000000_link.sql: MG122 migration is a symbolic "
                               "link: its content cannot be reviewed or checked")


def test_submodule_elsewhere_is_ignored_and_in_migrations_is_refused(
    supa: Repo, tmp_path: Path
) -> None:
    sub = Repo(tmp_path / "sub", supa.env)
    sub.path.mkdir()
    sub.git("init", "-q", "-b", "main")
    sub.commit("sub", "x.sql", "select 1;\n")
    supa.branch("feature")
    supa.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path),
             "vendor/sub")
    assert supa.mg("check").code == 0
    supa.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path),
             f"{SUPA}/20240105000000_sub.sql")
    result = supa.mg("linear")
    assert result.code == 1
    assert f"{SUPA}/20240105000000_sub.sql: MG122 migration is a submodule: its content " \
        "cannot be reviewed or checked" in result.lines


@pytest.mark.huge
def test_fifty_megabyte_migration_is_checked_within_one_gigabyte(supa: Repo) -> None:
    supa.branch("feature")
    supa.write(f"{SUPA}/20240105000000_data.sql", "insert into a values (1);\n" * 2_000_000)
    supa.add()
    out, err = supa.path.parent / "out", supa.path.parent / "err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "migration_guard", "check"],
                                   cwd=supa.path, env=supa.env, stdout=stdout, stderr=stderr)
    _pid, status, usage = os.wait4(process.pid, 0)  # this process's own peak memory
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, err.read_text()
    assert out.read_text().splitlines()[-1] == (
        "no findings (required, immutable, linear, lint over 1 project)")
    assert usage.ru_maxrss < 1024 * 1024  # KiB: the whole parse tree once took 6 GB


def test_empty_migrations_directory(repo: Repo) -> None:
    repo.commit("config", ".migration-guard.yaml",
                "projects:\n  - framework: sql\n    migrations: db/migrations\n")
    result = repo.mg("check")
    assert result.code == 0, result.err
    assert result.lines[-1] == "no findings (required, immutable, linear, lint over 1 project)"


def test_no_projects_found_fails_closed(repo: Repo) -> None:
    repo.commit("readme", "README.md", "hi\n")
    result = repo.mg("check")
    assert result.code == 2
    assert result.err.splitlines() == [
        "migration-guard: error: no migration projects found (looked for alembic.ini; "
        "drizzle.config.* or meta/_journal.json; schema.prisma or "
        "migrations/<timestamp>_<name>/migration.sql; supabase/migrations/*.sql or "
        "supabase/config.toml; a directory of V<n>__*.sql files; a directory of "
        "<n>_*.up.sql files; -- migrate:up files in a migrations/ directory; numbered .sql "
        "files in migrations/, migrate/ or schema_migrations/)",
        "  hint: declare yours under `projects:` in .migration-guard.yaml (framework and "
        "migrations), or `projects: []` if the repository has none on purpose",
    ]


def test_no_projects_on_purpose_passes_and_says_so(repo: Repo) -> None:
    repo.commit("config", ".migration-guard.yaml", "projects: []\n")
    result = repo.mg("check")
    assert result.code == 0, result.err
    assert result.lines[-1] == ("no migration projects (`projects: []` in "
                                ".migration-guard.yaml): nothing to check")


def test_no_checks_enabled_says_so(supa: Repo) -> None:
    supa.write(".migration-guard.yaml", "checks: []\n")
    supa.add()
    result = supa.mg("check")
    assert result.code == 0, result.err
    assert result.lines[-1] == ("no checks enabled (`checks: []` in .migration-guard.yaml): "
                                "nothing was checked")


def test_autocrlf_checkout_raises_no_false_alarm(supa: Repo, tmp_path: Path) -> None:
    clone = tmp_path / "crlf"
    subprocess.run(["git", "-c", "core.autocrlf=true", "clone", "-q", str(supa.path),
                    str(clone)], env=supa.env, check=True)
    cloned = Repo(clone, supa.env)
    cloned.git("config", "core.autocrlf", "true")
    assert b"\r\n" in (clone / INIT).read_bytes()
    cloned.git("add", "-A")
    result = cloned.mg("immutable")
    assert result.code == 0, result.out


def test_committed_crlf_change_says_line_endings(supa: Repo) -> None:
    supa.branch("feature")
    supa.write(INIT, "create table a (id int);\r\n")
    supa.add()
    result = supa.mg("immutable")
    assert result.code == 1
    assert "(only line endings changed)" in result.lines[1]
    assert "*.sql text eol=lf" in result.lines[2]


def test_partial_staging_judges_the_index(supa: Repo) -> None:
    supa.branch("feature")
    supa.append(INIT, "-- unstaged edit\n")
    assert supa.mg("immutable").code == 0
    supa.add()
    supa.write(INIT, "create table a (id int);\n")  # working tree back to the merged bytes
    assert supa.mg("immutable").code == 1


def test_intent_to_add_is_not_staged(supa: Repo) -> None:
    supa.branch("feature")
    supa.write(f"{SUPA}/20230101000000_old.sql", "select 1;\n")
    supa.git("add", "-N", "--", f"{SUPA}/20230101000000_old.sql")
    assert supa.mg("linear").code == 0


def test_intent_to_add_over_a_merged_migration_is_a_deletion(supa: Repo) -> None:
    supa.branch("feature")
    supa.git("rm", "-q", "--cached", "--", INIT)
    supa.git("add", "-N", "--", INIT)
    result = supa.mg("immutable")
    assert result.code == 1
    assert result.lines[1].startswith(f"{INIT}: MG103 migration deleted after it was merged")


def test_empty_merged_migration_is_not_deleted(supa: Repo) -> None:
    # An empty blob in the index is also what `git add -N` leaves: only the diff tells.
    empty = f"{SUPA}/20240102120000_placeholder.sql"
    supa.commit("placeholder", empty, "")
    supa.branch("feature")
    supa.write("README.md", "unrelated\n")
    supa.add()
    assert supa.mg("immutable").code == 0


def test_new_empty_migration_is_checked(supa: Repo) -> None:
    supa.branch("feature")
    supa.write(f"{SUPA}/20230101000000_old.sql", "")
    supa.add()
    result = supa.mg("linear")
    assert result.code == 1
    assert result.lines[1].startswith(f"{SUPA}/20230101000000_old.sql: MG110")


def test_commit_all_uses_the_temporary_index(supa: Repo) -> None:
    hook = supa.path / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nexec {os.sys.executable} -m migration_guard immutable\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    supa.branch("feature")
    supa.append(INIT, "-- edit\n")
    proc = subprocess.run(["git", "commit", "-a", "-m", "sneak"], cwd=supa.path, env=supa.env,
                          capture_output=True, check=False)
    assert proc.returncode == 1
    # git shows a hook's standard output on its standard error
    assert f"{INIT}: MG102 migration edited after it was merged" in proc.stderr.decode()


def test_linked_worktree(supa: Repo, tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    supa.git("worktree", "add", "-q", "-b", "wt", str(worktree))
    linked = Repo(worktree, supa.env)
    linked.append(INIT, "-- edit\n")
    linked.git("add", "-A")
    result = linked.mg("immutable")
    assert result.code == 1
    assert result.lines[1].startswith(f"{INIT}: MG102")


def test_rename_is_reported_as_deleted_and_added(supa: Repo) -> None:
    supa.branch("feature")
    supa.git("mv", INIT, f"{SUPA}/20240109000000_init.sql")
    result = supa.mg("immutable")
    assert result.code == 1
    assert result.lines[1].startswith(
        f"{INIT}: MG103 migration renamed to {SUPA}/20240109000000_init.sql after it was merged")


def test_mode_change_is_reported(supa: Repo) -> None:
    supa.branch("feature")
    supa.git("update-index", "--chmod=+x", "--", INIT)
    result = supa.mg("immutable")
    assert result.code == 1
    assert result.lines[1].startswith(f"{INIT}: MG104 migration changed mode 100644 -> 100755")
    assert result.lines[2] == f"  hint: restore the mode: git update-index --chmod=-x -- {INIT}"


def test_base_moved_on_does_not_report_its_new_migrations(supa: Repo) -> None:
    supa.branch("feature")
    supa.commit("feature work", "README.md", "x\n")
    supa.checkout("main")
    supa.commit("main moved", f"{SUPA}/20240107000000_main.sql", "select 1;\n")
    supa.checkout("feature")
    result = supa.mg("immutable")
    assert result.code == 0, result.out
    assert "merge base" in result.lines[0]


def test_alembic_graph_problems(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    versions = "migrations/versions"
    repo.write(f"{versions}/0003_broken.py", "revision = '0003'\ndown_revision = '0002'\ndef x(:\n")
    repo.write(f"{versions}/0004_dup.py", revision("0002", "0001"))
    repo.write(f"{versions}/0005_orphan.py", revision("0005", "zzzz"))
    repo.write(f"{versions}/0006_a.py", revision("0006", "0007"))
    repo.write(f"{versions}/0007_b.py", revision("0007", "0006"))
    repo.add()
    result = repo.mg("linear")
    assert result.code == 1
    found = {line.split(": ")[0] + " " + line.split(": ")[1].split(" ")[0]
             for line in result.lines if ": MG" in line}
    assert f"{versions}/0003_broken.py:3 MG118" in found
    assert f"{versions}/0004_dup.py:5 MG117" in found
    assert f"{versions}/0005_orphan.py:5 MG115" in found
    assert f"{versions}/0006_a.py:5 MG116" in found


def test_alembic_merge_revision_is_fine(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    versions = "migrations/versions"
    repo.write(f"{versions}/0003_a.py", revision("0003", "0002"))
    repo.write(f"{versions}/0004_b.py", revision("0004", "0002"))
    repo.write(f"{versions}/0005_merge.py", revision("0005", ("0003", "0004")))  # type: ignore[arg-type]
    repo.add()
    result = repo.mg("linear")
    assert result.code == 0, result.out


def test_drizzle_journal_not_json(repo: Repo) -> None:
    setup(repo, BY_NAME["drizzle"])
    repo.branch("feature")
    repo.write("drizzle/meta/_journal.json", "{ not json")
    repo.add()
    result = repo.mg("linear")
    assert result.code == 1
    assert result.lines[1].startswith("drizzle/meta/_journal.json:1: MG121 the Drizzle journal "
                                      "cannot be read: not valid JSON")


def test_drizzle_file_and_journal_disagree(repo: Repo) -> None:
    setup(repo, BY_NAME["drizzle"])
    repo.branch("feature")
    repo.write("drizzle/0002_orphan.sql", "select 1;\n")
    repo.git("rm", "-q", "--cached", "drizzle/0000_init.sql")
    repo.add("drizzle/0002_orphan.sql")
    result = repo.mg("linear")
    assert result.code == 1
    assert "drizzle/0002_orphan.sql: MG120 migration is not in meta/_journal.json: drizzle-kit " \
        "migrate never runs it" in result.lines
    assert any(line.startswith("drizzle/meta/_journal.json:") and "MG119 journal entry 0 names "
               "0000_init.sql, which does not exist" in line for line in result.lines)
