"""``migration-guard history``: real repositories, real commits by several authors."""

from __future__ import annotations

import json

import pytest
from conftest import Repo
from layouts import BY_NAME, LAYOUTS, Layout, revision, setup


def commit_as(repo: Repo, author: str, date: str, message: str, *files: str) -> str:
    """Commit ``files`` (path, content pairs) as ``author`` on ``date``; the commit id."""
    for rel, content in zip(files[::2], files[1::2], strict=True):
        repo.write(rel, content)
    repo.add()
    env = dict(repo.env, GIT_AUTHOR_NAME=author, GIT_AUTHOR_EMAIL=f"{author.lower()}@example.com",
               GIT_AUTHOR_DATE=date)
    repo.git("commit", "-q", "--no-verify", "-m", message, env=env)
    return repo.git("rev-parse", "HEAD").strip()


def test_newest_first_with_author_date_and_commit(repo: Repo) -> None:
    first = commit_as(repo, "Alice", "2025-03-01T10:00:00Z", "init",
                      "db/migrations/001_init.sql", "create table a (id int);\n")
    second = commit_as(repo, "Bob", "2025-04-02T11:00:00Z", "users",
                       "db/migrations/002_users.sql", "create table u (id int);\n",
                       "README.md", "docs\n")
    commit_as(repo, "Carol", "2025-05-03T12:00:00Z", "unrelated", "app.py", "x = 1\n")
    result = repo.mg("history")
    assert (result.code, result.err) == (0, "")
    assert result.lines == [
        "db/migrations/ (sql): 2 of 2 migrations, newest first",
        f"  002  2025-04-02  {second[:12]}  Bob    users",
        f"  001  2025-03-01  {first[:12]}  Alice  init",
    ]


def test_n_limits_each_project_and_zero_means_all(repo: Repo) -> None:
    for number in range(1, 5):
        commit_as(repo, "Alice", "2025-03-01T10:00:00Z", f"m{number}",
                  f"db/migrations/00{number}_m{number}.sql", "select 1;\n")
    assert [line.split()[0] for line in repo.mg("history", "-n", "2").lines] == [
        "db/migrations/", "004", "003"]
    assert repo.mg("history", "-n", "2").lines[0] == (
        "db/migrations/ (sql): 2 of 4 migrations, newest first")
    assert len(repo.mg("history", "-n", "0").lines) == 5


def test_staged_migration_is_shown_as_uncommitted(repo: Repo) -> None:
    first = commit_as(repo, "Alice", "2025-03-01T10:00:00Z", "init",
                      "db/migrations/001_init.sql", "create table a (id int);\n")
    repo.write("db/migrations/002_next.sql", "select 1;\n")
    repo.write("db/migrations/003_not_staged.sql", "select 1;\n")
    repo.add("db/migrations/002_next.sql")
    assert repo.mg("history").lines == [
        "db/migrations/ (sql): 2 of 2 migrations, newest first",
        "  002              (uncommitted)         next",
        f"  001  2025-03-01  {first[:12]}   Alice  init",
    ]


def test_json_carries_full_commit_email_and_date(repo: Repo) -> None:
    first = commit_as(repo, "Alice", "2025-03-01T10:00:00+02:00", "init",
                      "db/migrations/001_init.sql", "create table a (id int);\n")
    repo.write("db/migrations/002_next.sql", "select 1;\n")
    repo.add()
    result = repo.mg("history", "--format", "json")
    assert result.code == 0
    assert json.loads(result.out) == {"projects": [{
        "name": "db/migrations", "framework": "sql", "directory": "db/migrations", "total": 2,
        "migrations": [
            {"version": "002", "name": "next", "path": "db/migrations/002_next.sql",
             "commit": None, "author": None, "email": None, "date": None,
             "renamed_from": None, "uncommitted": True},
            {"version": "001", "name": "init", "path": "db/migrations/001_init.sql",
             "commit": first, "author": "Alice", "email": "alice@example.com",
             "date": "2025-03-01T10:00:00+02:00", "renamed_from": None, "uncommitted": False},
        ],
    }]}


def test_renamed_migration_is_credited_to_its_first_addition(repo: Repo) -> None:
    commit_as(repo, "Alice", "2025-03-01T10:00:00Z", "init",
              "db/migrations/001_init.sql", "create table a (id int);\n")
    added = commit_as(repo, "Bob", "2025-03-02T10:00:00Z", "users",
                      "db/migrations/002_users.sql", "create table users (id int, n text);\n")
    repo.git("mv", "db/migrations/002_users.sql", "db/migrations/003_users.sql")
    commit_as(repo, "Carol", "2025-03-03T10:00:00Z", "renumber after rebase")
    repo.git("mv", "db/migrations/003_users.sql", "db/migrations/004_users.sql")
    commit_as(repo, "Dan", "2025-03-04T10:00:00Z", "renumber again")
    result = repo.mg("history", "-n", "1", "--format", "json")
    (newest,) = json.loads(result.out)["projects"][0]["migrations"]
    assert (newest["path"], newest["commit"], newest["author"], newest["renamed_from"]) == (
        "db/migrations/004_users.sql", added, "Bob", "db/migrations/002_users.sql")


def test_re_added_migration_is_credited_to_the_newest_addition(repo: Repo) -> None:
    commit_as(repo, "Alice", "2025-03-01T10:00:00Z", "add",
              "db/migrations/001_init.sql", "create table a (id int);\n")
    repo.git("rm", "-q", "db/migrations/001_init.sql")
    commit_as(repo, "Bob", "2025-03-02T10:00:00Z", "drop it", "keep.txt", "x\n")
    again = commit_as(repo, "Carol", "2025-03-03T10:00:00Z", "add again",
                      "db/migrations/001_init.sql", "create table b (id int);\n")
    assert repo.mg("history").lines[1] == f"  001  2025-03-03  {again[:12]}  Carol  init"


def test_migration_from_a_merged_branch_names_the_branch_commit(repo: Repo) -> None:
    commit_as(repo, "Alice", "2025-03-01T10:00:00Z", "init",
              "db/migrations/001_init.sql", "create table a (id int);\n")
    repo.branch("feature")
    on_branch = commit_as(repo, "Bob", "2025-03-02T10:00:00Z", "users",
                          "db/migrations/002_users.sql", "create table u (id int);\n")
    repo.checkout("main")
    commit_as(repo, "Carol", "2025-03-03T10:00:00Z", "docs", "README.md", "docs\n")
    repo.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    assert repo.mg("history").lines[1] == f"  002  2025-03-02  {on_branch[:12]}  Bob    users"


def test_paths_with_spaces_newlines_and_non_ascii_are_read_whole(repo: Repo) -> None:
    names = ["001_café au lait.sql", "002_two\nlines.sql"]
    commit_as(repo, "Zoë", "2025-03-01T10:00:00Z", "odd names",
              *[part for name in names for part in (f"db/migrations/{name}", "select 1;\n")])
    result = repo.mg("history", "--format", "json")
    rows = json.loads(result.out)["projects"][0]["migrations"]
    assert [(r["path"], r["name"], r["author"]) for r in rows] == [
        ("db/migrations/002_two\nlines.sql", "two\nlines", "Zoë"),
        ("db/migrations/001_café au lait.sql", "café au lait", "Zoë")]


def test_alembic_lists_revisions_in_graph_order_with_their_messages(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    # The file names sort against the graph: "aaaa" is the newest revision.
    newer = revision("ffff", "0002").replace('"""ffff"""', '"""add teams\n\nRevision ID: ffff\n"""')
    teams = commit_as(repo, "Alice", "2025-03-01T10:00:00Z", "teams",
                      "migrations/versions/ffff_add_teams.py", newer)
    newest = commit_as(repo, "Bob", "2025-03-02T10:00:00Z", "flags",
                       "migrations/versions/aaaa_flags.py",
                       revision("aaaa", "ffff").replace('"""aaaa"""', '"""\n"""'))
    result = repo.mg("history", "-n", "3")
    assert result.lines[0] == "migrations/versions/ (alembic): 3 of 4 migrations, newest first"
    setup_commit = repo.git("log", "-1", "--format=%H", "--", "migrations/versions/0002_users.py")
    assert result.lines[1:] == [
        f"  aaaa  2025-03-02  {newest[:12]}  Bob    flags",
        f"  ffff  2025-03-01  {teams[:12]}  Alice  add teams",
        f"  0002  2026-01-01  {setup_commit[:12]}  Test   0002",
    ]


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
def test_every_layout_lists_versions_and_names_newest_first(repo: Repo, layout: Layout) -> None:
    setup(repo, layout)
    expected = {
        "alembic": [("0002", "0002"), ("0001", "0001")],
        "supabase": [("20240102000000", "users"), ("20240101000000", "init")],
        "drizzle": [("0001", "users"), ("0000", "init")],
        "flyway": [("2", "users"), ("1", "init")],  # R__ repeatables have no place in order
        "prisma": [("20240102000000", "users"), ("20240101000000", "init")],
        "dbmate": [("20240102000000", "users"), ("20240101000000", "init")],
        "golang-migrate": [("000005", "users"), ("000001", "init")],  # one row per version
        "sql": [("005", "users"), ("001", "init")],
    }[layout.name]
    result = repo.mg("history", "--format", "json")
    rows = json.loads(result.out)["projects"][0]["migrations"]
    assert [(r["version"], r["name"]) for r in rows] == expected


def test_project_option_picks_one_of_several(repo: Repo) -> None:
    commit_as(repo, "Alice", "2025-03-01T10:00:00Z", "two projects",
              "db/migrations/001_init.sql", "select 1;\n",
              "supabase/migrations/20240101000000_init.sql", "select 1;\n")
    both = repo.mg("history").lines
    assert [line for line in both if not line.startswith("  ")] == [
        "db/migrations/ (sql): 1 of 1 migration, newest first", "",
        "supabase/migrations/ (supabase): 1 of 1 migration, newest first"]
    one = repo.mg("history", "--project", "supabase/migrations").lines
    assert one[0] == "supabase/migrations/ (supabase): 1 of 1 migration, newest first"
    assert len(one) == 2


def test_unknown_project_is_exit_2_naming_the_choices(repo: Repo) -> None:
    commit_as(repo, "Alice", "2025-03-01T10:00:00Z", "init",
              "db/migrations/001_init.sql", "select 1;\n")
    result = repo.mg("history", "--project", "api")
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == ["migration-guard: error: no project named 'api'",
                                       "  hint: choose one of: db/migrations"]


def test_before_the_first_commit_everything_is_uncommitted(repo: Repo) -> None:
    repo.write("db/migrations/001_init.sql", "select 1;\n")
    repo.add()
    result = repo.mg("history", "-C", "db")
    assert (result.code, result.lines) == (0, [
        "db/migrations/ (sql): 1 of 1 migration, newest first",
        "  001    (uncommitted)    init"])


def test_negative_count_is_exit_2(repo: Repo) -> None:
    commit_as(repo, "Alice", "2025-03-01T10:00:00Z", "init",
              "db/migrations/001_init.sql", "select 1;\n")
    result = repo.mg("history", "-n", "-1")
    assert (result.code, result.err.splitlines()) == (2, [
        "migration-guard: error: -n -1: must be 0 or more",
        "  hint: give -n a count, or 0 for all"])
