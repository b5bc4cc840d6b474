"""The trace on a real, throwaway PostgreSQL: locks, rewrites, scans, growth, findings."""

from __future__ import annotations

import json
import re
from typing import Any

from conftest import Repo, Result
from layouts import BY_NAME, journal, setup

from apply.projects import alembic_base, stage_revision

CONFIG = "projects:\n  - framework: sql\n    migrations: db/migrations\n"
BASE = ("create table parent (id int primary key, v int, t timestamp);\n"
        "create table child (id int primary key, parent_id int, note text);\n")
NEW = "db/migrations/002_change.sql"


def sql_project(repo: Repo, sql: str, *, extra: str = "") -> None:
    repo.write(".migration-guard.yaml", CONFIG + extra)
    repo.write("db/migrations/001_init.sql", BASE)
    repo.commit("base")
    repo.write(NEW, sql)
    repo.add()


def findings(result: Result) -> list[str]:
    """The finding lines of a text report (hints left out)."""
    return [line for line in result.lines[1:] if re.match(r"\S+:\d+: MG\d{3} ", line)]


def table(result: Result) -> list[str]:
    """The trace table's rows with every duration written as N."""
    rows = [line for line in result.lines if re.match(r"  \d+ \| ", line)]
    return [re.sub(r"\d+\.\d+", "N", row) for row in rows]


def statements(repo: Repo) -> list[dict[str, Any]]:
    document = json.loads(repo.mg("apply", "--format", "json").out)
    return [s for trace in document["traces"] for s in trace["statements"]]


def locks(statement: dict[str, Any]) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(lock["relation"], lock["mode"], tuple(lock["blocks"]))
            for lock in statement["locks"]}


def test_alter_column_type_bigint_rewrites_under_access_exclusive(apply_repo: Repo) -> None:
    sql_project(apply_repo, "alter table parent alter column v type bigint;\n")
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert findings(result) == [
        f"{NEW}:1: MG241 traced: rewrote public.parent (3 rows in the base): the whole table "
        "is copied while the statement holds its lock [static lint MG304 predicted this]"]
    assert table(result) == [
        "  1 | alter table parent alter column v type bigint | N | - | public.parent ACCESS "
        "EXCLUSIVE held N ms (blocks reads, writes, ddl) | public.parent | public.parent | "
        "MG304 confirmed, MG309 confirmed"]


def test_default_now_adds_a_column_without_rewrite_clock_timestamp_rewrites(
        apply_repo: Repo) -> None:
    sql_project(apply_repo, "alter table parent add column a timestamptz default now();\n")
    apply_repo.write("db/migrations/003_clock.sql",
                     "alter table parent add column b timestamptz default clock_timestamp();\n")
    apply_repo.add()
    now, clock = statements(apply_repo)
    assert (now["rewrites"], clock["rewrites"]) == ([], ["public.parent"])
    exclusive = ("public.parent", "ACCESS EXCLUSIVE", ("reads", "writes", "ddl"))
    assert locks(now) == {exclusive} and exclusive in locks(clock)


def test_brief_access_exclusive_is_a_warning_and_apply_passes(apply_repo: Repo) -> None:
    sql_project(apply_repo, "alter table parent add column a timestamptz default now();\n")
    result = apply_repo.mg("apply")
    assert result.code == 0, result.out + result.err
    assert findings(result) == [
        f"{NEW}:1: MG240 warning: traced: took ACCESS EXCLUSIVE (blocks reads and writes and "
        "ddl) on public.parent (3 rows in the base) [static lint MG309 predicted this]"]
    assert result.lines[-1] == "1 finding, 1 of them a warning (apply over 1 project)"


def test_create_index_blocks_writes_concurrently_only_ddl(apply_repo: Repo) -> None:
    sql_project(apply_repo, "create index parent_v on parent (v);\n"
                            "create index concurrently parent_t on parent (t);\n")
    plain, concurrent = statements(apply_repo)
    assert (plain["mode"], concurrent["mode"]) == ("transaction", "autocommit")
    assert locks(plain) == {("public.parent", "SHARE", ("writes", "ddl"))}
    assert locks(concurrent) == {("public.parent", "SHARE UPDATE EXCLUSIVE", ("ddl",))}
    result = apply_repo.mg("apply")
    assert findings(result) == [
        f"{NEW}:1: MG243 traced: scanned public.parent (3 rows in the base) under SHARE (blocks "
        "writes and ddl): every row is read while traffic waits [static lint MG301 predicted "
        "this]"]


def test_add_foreign_key_locks_the_referenced_table_too(apply_repo: Repo) -> None:
    sql_project(apply_repo,
                "alter table child add foreign key (parent_id) references parent (id);\n")
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert findings(result) == [
        f"{NEW}:1: MG243 traced: scanned public.child (3 rows in the base) under SHARE ROW "
        "EXCLUSIVE (blocks writes and ddl): every row is read while traffic waits [static lint "
        "MG302 predicted this]",
        f"{NEW}:1: MG243 traced: scanned public.parent (3 rows in the base) under SHARE ROW "
        "EXCLUSIVE (blocks writes and ddl): every row is read while traffic waits [static lint "
        "MG302 predicted this]",
        f"{NEW}:1: MG244 warning: traced: took SHARE ROW EXCLUSIVE (blocks writes and ddl) on "
        "public.parent (3 rows in the base), a table the statement does not alter [static lint "
        "MG302 predicted this]"]


def test_set_not_null_scans_the_table(apply_repo: Repo) -> None:
    sql_project(apply_repo, "alter table parent alter column v set not null;\n")
    result = apply_repo.mg("apply")
    assert findings(result) == [
        f"{NEW}:1: MG243 traced: scanned public.parent (3 rows in the base) under ACCESS "
        "EXCLUSIVE (blocks reads and writes and ddl): every row is read while traffic waits "
        "[static lint MG303 predicted this]"]


def test_cheap_alter_holds_its_lock_through_a_slow_update(apply_repo: Repo) -> None:
    sql_project(apply_repo, "alter table parent add column n int;\nupdate parent set v = v + 1;\n",
                extra="    trace_rows: 20000\n")
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert f"{NEW}:1: MG242 traced: holds ACCESS EXCLUSIVE (blocks reads and writes and ddl) " \
        "on public.parent (3 rows in the base) through 1 later statement of its transaction " \
        "(line 2) until commit; line 2 runs longer than the statement that took the lock and " \
        "grows with the table [no static rule flagged this statement: alter table parent add " \
        "column n int]" in findings(result)
    update = table(result)[1]
    assert update.startswith("  2 | update parent set v = v + 1 | N | N (linear) | "), update
    assert "(3 sample rows per base table, then 20000; TimeZone UTC):" in result.out


def test_timestamp_to_timestamptz_rewrites_only_outside_utc(apply_repo: Repo) -> None:
    sql_project(apply_repo, "alter table parent alter column t type timestamptz;\n")
    utc = apply_repo.mg("apply")
    assert findings(utc) == [
        f"{NEW}:1: MG240 warning: traced: took ACCESS EXCLUSIVE (blocks reads and writes and "
        "ddl) on public.parent (3 rows in the base) [static lint MG304, MG309 predicted this]"]
    assert table(utc)[0].endswith("| - | - | MG304 not confirmed, MG309 confirmed")
    apply_repo.write(".migration-guard.yaml", CONFIG + "    timezone: Europe/Berlin\n")
    apply_repo.add()
    berlin = apply_repo.mg("apply")
    assert findings(berlin)[0] == (
        f"{NEW}:1: MG241 traced: rewrote public.parent (3 rows in the base): the whole table "
        "is copied while the statement holds its lock [static lint MG304 predicted this]")


def test_trace_only_finding_shows_the_statement_no_rule_flagged(apply_repo: Repo) -> None:
    sql_project(apply_repo,
                "alter table parent set unlogged;\n")
    result = apply_repo.mg("apply")
    assert findings(result) == [
        f"{NEW}:1: MG241 traced: rewrote public.parent (3 rows in the base): the whole table is "
        "copied while the statement holds its lock [no static rule flagged this statement: "
        "alter table parent set unlogged]"]


def test_trace_off_reports_nothing_of_it(apply_repo: Repo) -> None:
    sql_project(apply_repo, "alter table parent alter column v type bigint;\n",
                extra="    trace: off\n")
    result = apply_repo.mg("apply")
    shown = [line for line in result.lines[1:] if ": note: server: " not in line]
    assert (result.code, shown) == (0, ["no findings (apply over 1 project)"])


def test_alembic_revision_traced_at_its_op_line(apply_repo: Repo) -> None:
    alembic_base(apply_repo)
    path = stage_revision(apply_repo, 'op.alter_column("users", "id", type_=sa.BigInteger)')
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert findings(result) == [
        f"{path}:12: MG241 traced: rewrote public.users (3 rows in the base): the whole table "
        "is copied while the statement holds its lock [static lint MG304 predicted this]"]
    assert table(result) == [
        "  12 | ALTER TABLE users ALTER COLUMN id TYPE BIGINT | N | - | public.users ACCESS "
        "EXCLUSIVE held N ms (blocks reads, writes, ddl) | public.users | public.users | "
        "MG304 confirmed, MG309 confirmed"]


def test_drizzle_statements_of_one_transaction_share_its_locks(apply_repo: Repo) -> None:
    setup(apply_repo, BY_NAME["drizzle"])
    apply_repo.write("drizzle/0002_more.sql", "ALTER TABLE a ADD COLUMN n int;\n"
                     "--> statement-breakpoint\nUPDATE a SET n = 1;\n")
    apply_repo.write("drizzle/meta/_journal.json",
                     journal(["0000_init", "0001_users", "0002_more"]))
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 0, result.out + result.err
    assert findings(result) == [
        "drizzle/0002_more.sql:1: MG240 warning: traced: took ACCESS EXCLUSIVE (blocks reads "
        "and writes and ddl) on public.a (3 rows in the base) [static lint MG309 predicted "
        "this]",
        "drizzle/0002_more.sql:1: MG242 warning: traced: holds ACCESS EXCLUSIVE (blocks reads "
        "and writes and ddl) on public.a (3 rows in the base) through 1 later statement of its "
        "transaction (line 3) until commit [no static rule flagged this statement: ALTER TABLE "
        "a ADD COLUMN n int]"]


def test_json_has_every_lock_with_times_and_github_annotates_the_line(
        apply_repo: Repo) -> None:
    sql_project(apply_repo, "alter table parent add column a int;\n")
    (statement,) = statements(apply_repo)
    (lock,) = statement["locks"]
    assert lock["relation"] == "public.parent" and lock["mode"] == "ACCESS EXCLUSIVE"
    assert lock["held_for_ms"] >= statement["duration_ms"] and lock["acquired_at_ms"] >= 0
    assert (lock["blocks"], lock["rows_in_base"]) == (["reads", "writes", "ddl"], 3)
    summary = apply_repo.path.parent / "summary.md"
    result = apply_repo.mg("apply", "--format", "github",
                           env={**apply_repo.env, "GITHUB_STEP_SUMMARY": str(summary)})
    assert result.lines[1] == (
        f"::warning file={NEW},line=1,title=MG240 traced-blocking-lock::traced: took ACCESS "
        "EXCLUSIVE (blocks reads and writes and ddl) on public.parent (3 rows in the base) "
        "[static lint MG309 predicted this]%0Ahint: "
        "keep the lock brief: SET lock_timeout before the statement (and retry on timeout), "
        "and commit right after it")
    markdown = summary.read_text()
    assert "| line | statement | ms | at trace\\_rows | locks | rewrites | scans | static lint |" \
        in markdown


def test_static_lint_findings_say_whether_the_trace_confirmed_them(apply_repo: Repo) -> None:
    sql_project(apply_repo, "alter table parent alter column t type timestamptz;\n"
                            "alter table parent alter column v set not null;\n",
                extra="checks: [lint, apply]\n")
    result = apply_repo.mg("check")
    verdicts = [re.sub(r"(MG30\d) .* \[trace", r"\1 ... [trace", line) for line in result.lines
                if re.match(r"\S+:\d+:1: MG30\d ", line)]
    assert verdicts == [f"{NEW}:1:1: MG304 ... [trace: not confirmed]",
                        f"{NEW}:1:1: MG309 ... [trace: confirmed]",
                        f"{NEW}:2:1: MG303 ... [trace: confirmed]"], result.out
    assert f"{NEW}:2: MG243 traced: scanned public.parent (3 rows in the base) under ACCESS " \
        "EXCLUSIVE (blocks reads and writes and ddl): every row is read while traffic waits " \
        "[static lint MG303 predicted this]" in result.lines


def test_trace_all_traces_the_base_migrations_too(apply_repo: Repo) -> None:
    sql_project(apply_repo, "alter table parent add column a int;\n", extra="    trace: all\n")
    result = apply_repo.mg("apply")
    headings = [line for line in result.lines if line.startswith("trace of ")]
    assert headings == [
        "trace of db/migrations/001_init.sql (3 sample rows per base table; TimeZone UTC):",
        f"trace of {NEW} (3 sample rows per base table; TimeZone UTC):"]
    assert [line.split(" | ")[1] for line in table(result)] == [
        "create table parent (id int primary key, v int, t timestamp)",
        "create table child (id int primary key, parent_id int, no...",
        "alter table parent add column a int"]
