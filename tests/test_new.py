"""`migration-guard new NAME`: the framework's file name, ordered after every migration the
project has (committed, staged, on disk), content from templates/sql; the fast checks pass
on the staged result."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, Repo
from layouts import BY_NAME, LAYOUTS, Layout, journal, setup

SQL_LAYOUTS = [layout for layout in LAYOUTS if layout.name != "alembic"]
TEMPLATES = ROOT / "templates" / "sql"
STAMP = r"\d{14}"
# The files `new add orders` writes on each layout's main branch, as regular expressions.
EXPECTED = {
    "supabase": [f"supabase/migrations/{STAMP}_add_orders.sql"],
    "drizzle": ["drizzle/0002_add_orders.sql", "drizzle/meta/_journal.json"],
    "flyway": ["sql/V3__add_orders.sql"],
    "prisma": [f"prisma/migrations/{STAMP}_add_orders/migration.sql"],
    "dbmate": [f"db/migrations/{STAMP}_add_orders.sql"],
    "golang-migrate": ["migrations/000006_add_orders.up.sql",
                       "migrations/000006_add_orders.down.sql"],
    "sql": ["db/migrations/006_add_orders.sql"],
}


def body(name: str, table: str = "example_items") -> str:
    text = (TEMPLATES / name).read_text().split("\n", 1)[1]
    return text.replace("example_items", table)


@pytest.fixture(params=SQL_LAYOUTS, ids=[layout.name for layout in SQL_LAYOUTS])
def layout(request: pytest.FixtureRequest, repo: Repo) -> Layout:
    setup(repo, request.param)
    repo.branch("feature")
    return request.param  # type: ignore[no-any-return]


def written(lines: list[str]) -> list[str]:
    return [line.split(" ", 1)[1] for line in lines]


def test_new_migration_passes_the_fast_checks(repo: Repo, layout: Layout) -> None:
    result = repo.mg("new", "add orders", "--table", "orders")
    assert result.code == 0, result.out + result.err
    paths = written(result.lines)
    assert len(paths) == len(EXPECTED[layout.name])
    for path, pattern in zip(paths, EXPECTED[layout.name], strict=True):
        assert re.fullmatch(pattern, path), path
    repo.add()
    check = repo.mg("check", "--fast")
    assert check.code == 0, check.out + check.err
    # The template enables row level security and leaves the policies to the author: the
    # lint reminds them with a warning, which does not fail the check.
    assert [line.split(": ")[1][:5] for line in check.lines if ": MG" in line] == ["MG363"]
    assert check.lines[-1] == ("1 finding, 1 of them a warning "
                               "(required, immutable, linear, lint over 1 project)")


def test_blank_new_migration_passes_the_fast_checks(repo: Repo, layout: Layout) -> None:
    assert repo.mg("new", "add_orders").code == 0
    repo.add()
    check = repo.mg("check", "--fast")
    assert check.code == 0, check.out + check.err


def test_new_migration_sorts_after_a_staged_one(repo: Repo, layout: Layout) -> None:
    layout.new(repo)
    repo.add()
    result = repo.mg("new", "after_that")
    assert result.code == 0, result.err
    repo.add()
    check = repo.mg("check", "--fast")
    assert check.code == 0, check.out + check.err


def test_two_new_migrations_in_a_row_are_ordered(repo: Repo, layout: Layout) -> None:
    first = written(repo.mg("new", "first").lines)[0]
    second = written(repo.mg("new", "second").lines)[0]
    assert first != second
    repo.add()
    check = repo.mg("check", "--fast")
    assert check.code == 0, check.out + check.err


def test_output_names_each_file(repo: Repo) -> None:
    setup(repo, BY_NAME["golang-migrate"])
    result = repo.mg("new", "Add-Orders  now")
    assert result.lines == ["wrote migrations/000006_add_orders_now.up.sql",
                            "wrote migrations/000006_add_orders_now.down.sql"]
    assert result.err == ""


def test_content_comes_from_the_templates(repo: Repo) -> None:
    setup(repo, BY_NAME["sql"])
    repo.mg("new", "orders", "--table", "orders")
    assert (repo.path / "db/migrations/006_orders.sql").read_text() == \
        body("create_table.sql", "orders")


def test_dbmate_migration_has_up_and_down_sections(repo: Repo) -> None:
    setup(repo, BY_NAME["dbmate"])
    (path,) = written(repo.mg("new", "orders", "--table", "orders").lines)
    assert (repo.path / path).read_text() == (
        f"-- migrate:up\n{body('create_table.sql', 'orders')}\n"
        f"-- migrate:down\n{body('create_table.down.sql', 'orders')}")


def test_golang_migrate_down_file_undoes_the_table(repo: Repo) -> None:
    setup(repo, BY_NAME["golang-migrate"])
    repo.mg("new", "orders", "--table", "orders")
    assert (repo.path / "migrations/000006_orders.down.sql").read_text() == \
        body("create_table.down.sql", "orders")


def test_golang_migrate_follows_timestamped_versions(repo: Repo) -> None:
    repo.commit("base", "migrations/20240101000000_init.up.sql", "SELECT 1;\n",
                "migrations/20240101000000_init.down.sql", "SELECT 1;\n")
    (up, _down) = written(repo.mg("new", "more").lines)
    assert re.fullmatch(rf"migrations/{STAMP}_more\.up\.sql", up)
    assert up > "migrations/20240101000000"


def test_timestamp_after_a_future_migration(repo: Repo) -> None:
    repo.commit("base", "supabase/migrations/29991231235959_future.sql", "SELECT 1;\n")
    result = repo.mg("new", "next")
    assert result.lines == ["wrote supabase/migrations/30000101000000_next.sql"]


def test_flyway_bumps_the_major_version(repo: Repo) -> None:
    repo.commit("base", "db/V1__init.sql", "SELECT 1;\n", "db/V2_5__more.sql", "SELECT 1;\n",
                "db/R__views.sql", "SELECT 1;\n")
    assert repo.mg("new", "next").lines == ["wrote db/V3__next.sql"]


def test_drizzle_journal_entry_matches_drizzle_kit(repo: Repo) -> None:
    setup(repo, BY_NAME["drizzle"])
    result = repo.mg("new", "add_orders")
    assert result.lines == ["wrote drizzle/0002_add_orders.sql",
                            "updated drizzle/meta/_journal.json"]
    text = (repo.path / "drizzle/meta/_journal.json").read_text()
    document = json.loads(text)
    entry = document["entries"][-1]
    assert list(entry) == ["idx", "version", "when", "tag", "breakpoints"]
    assert (entry["idx"], entry["version"], entry["tag"], entry["breakpoints"]) == \
        (2, "7", "0002_add_orders", True)
    assert entry["when"] > document["entries"][-2]["when"]
    assert text == json.dumps(document, indent=2)  # drizzle-kit's layout, kept


def test_drizzle_statements_are_split_by_breakpoints(repo: Repo) -> None:
    setup(repo, BY_NAME["drizzle"])
    repo.mg("new", "orders", "--table", "orders")
    sql = (repo.path / "drizzle/0002_orders.sql").read_text()
    assert sql.count("\n--> statement-breakpoint\n") == sql.count(";\n") - 1


def test_drizzle_snapshot_is_carried_forward(repo: Repo) -> None:
    setup(repo, BY_NAME["drizzle"])
    repo.commit("snapshot", "drizzle/meta/0001_snapshot.json",
                json.dumps({"id": "1111", "prevId": "0000", "tables": {}}, indent=2) + "\n")
    result = repo.mg("new", "custom")
    assert result.lines[1] == "wrote drizzle/meta/0002_snapshot.json"
    snapshot = json.loads((repo.path / "drizzle/meta/0002_snapshot.json").read_text())
    assert snapshot["prevId"] == "1111" and snapshot["id"] != "1111"
    assert snapshot["tables"] == {}


def test_drizzle_ignores_journal_whitespace_style(repo: Repo) -> None:
    repo.commit("base", "drizzle/0000_init.sql", "SELECT 1;\n", "drizzle/meta/_journal.json",
                json.dumps(json.loads(journal(["0000_init"])), indent="\t"))
    repo.mg("new", "more")
    text = (repo.path / "drizzle/meta/_journal.json").read_text()
    assert text == json.dumps(json.loads(text), indent="\t")


@pytest.mark.parametrize("name", ["", "   ", "--", "add/orders", "add.orders", "naïve", "a'b"])
def test_odd_names_are_refused(repo: Repo, name: str) -> None:
    setup(repo, BY_NAME["sql"])
    result = repo.mg("new", "--", name)
    assert result.code == 2
    assert result.out == ""
    assert result.err.splitlines()[1] == ("  hint: use letters, digits, spaces, - and _, e.g. "
                                          "migration-guard new add_orders")
    assert repo.git("status", "--porcelain") == ""


def test_empty_name_message(repo: Repo) -> None:
    setup(repo, BY_NAME["sql"])
    assert repo.mg("new", "").err.splitlines()[0] == \
        "migration-guard: error: the migration name is empty"


def test_bad_table_name_is_refused(repo: Repo) -> None:
    setup(repo, BY_NAME["sql"])
    result = repo.mg("new", "orders", "--table", "Orders")
    assert result.code == 2
    assert result.err.splitlines() == [
        "migration-guard: error: table name 'Orders' is not a lower-case SQL identifier",
        "  hint: use lower-case letters, digits and _ (at most 63), e.g. --table orders"]


def test_alembic_prints_the_alembic_command(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    result = repo.mg("new", "add orders")
    assert result.code == 2
    assert result.err.splitlines() == [
        "migration-guard: error: migrations/versions is an Alembic project: Alembic writes "
        "its own revisions (revision id, down_revision)",
        '  hint: run: alembic revision -m "add_orders", or alembic revision --autogenerate '
        '-m "add_orders" to draft it from the models']


def test_several_projects_need_project(repo: Repo) -> None:
    for layout in (BY_NAME["supabase"], BY_NAME["sql"]):
        for rel, content in layout.files.items():
            repo.write(rel, content)
    repo.commit("two projects")
    result = repo.mg("new", "more")
    assert result.code == 2
    assert result.err.splitlines() == [
        "migration-guard: error: this repository has 2 migration projects: db/migrations, "
        "supabase/migrations",
        "  hint: choose one with --project NAME"]
    assert repo.mg("new", "more", "--project", "db/migrations").lines == \
        ["wrote db/migrations/006_more.sql"]


def test_unknown_project_is_refused(repo: Repo) -> None:
    setup(repo, BY_NAME["sql"])
    result = repo.mg("new", "more", "--project", "api")
    assert result.code == 2
    assert result.err.splitlines() == ["migration-guard: error: no project named 'api'",
                                       "  hint: choose one of: db/migrations"]
