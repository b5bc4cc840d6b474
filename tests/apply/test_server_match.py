"""The throwaway server matches production: major, extensions, the Supabase preset, bad
bytes and the client-side run limit; through the CLI on real repositories.

The extension tests need a PostgreSQL with contrib (``uuid-ossp``, ``pgcrypto``): here,
Debian's PostgreSQL 15, which ``.ci/run`` installs where it is missing. They fail, not
skip, without it: the embedded wheel alone cannot run a Supabase project.
"""

from __future__ import annotations

import time

from conftest import Repo

from apply.projects import alembic_base, stage_revision

SUPABASE_INIT = """\
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
create table public.profiles (
  id uuid primary key default uuid_generate_v4(),
  user_id uuid references auth.users (id),
  secret text default encode(gen_random_bytes(8), 'hex')
);
alter table public.profiles enable row level security;
create policy "own profile" on public.profiles for select to authenticated
  using (auth.uid() = user_id);
grant select on public.profiles to anon, authenticated;
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);
create policy "avatar upload" on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and auth.role() = 'authenticated');
"""
SEED = ("insert into auth.users (id, email) values "
        "('00000000-0000-0000-0000-000000000001', 'a@example.com');\n"
        "insert into public.profiles (user_id) values ('00000000-0000-0000-0000-000000000001');\n")


def supabase_repo(repo: Repo, migration: str = SUPABASE_INIT, config: str = "",
                  seed: str = SEED) -> None:
    repo.write("supabase/config.toml", "project_id = 'x'\n")
    repo.write("supabase/migrations/20240101000000_init.sql", "create table a (id int);\n")
    if config:
        repo.write(".migration-guard.yaml", config)
    repo.commit("base")
    repo.write("supabase/migrations/20240102000000_profiles.sql", migration)
    if seed:
        repo.write("supabase/seed.sql", seed)
    repo.add()


def test_supabase_project_with_contrib_rls_storage_and_seed_applies(apply_repo: Repo) -> None:
    supabase_repo(apply_repo)
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out
    notes = [line.split(": note: ", 1)[1] for line in result.lines if ": note: " in line]
    assert notes[0].startswith("server: PostgreSQL 15.")
    assert notes[1:] == [
        "supabase preset: roles, auth, storage and extensions schemas set up",
        "seed supabase/seed.sql applied after the migrations",
    ]


def test_platform_only_extension_exits_2_naming_it(apply_repo: Repo) -> None:
    supabase_repo(apply_repo, "create extension pg_cron;\n")
    result = apply_repo.mg("apply")
    assert result.code == 2, result.out + result.err
    error, hint = result.err.splitlines()
    assert error.startswith("migration-guard: error: the migrations create the extension "
                            "pg_cron, which no PostgreSQL here ships")
    assert hint == ("  hint: pg_cron ships only with the platform's own PostgreSQL: give a "
                    "server URL of the supabase/postgres image with --database-url, or list "
                    "them under postgres.stand_ins to apply with stand-ins that do nothing")


def test_stand_in_cron_schedule_applies_when_opted_in(apply_repo: Repo) -> None:
    supabase_repo(apply_repo,
                  "create extension if not exists pg_cron with schema extensions;\n"
                  "select cron.schedule('nightly', '0 3 * * *', $$delete from a$$);\n"
                  "select net.http_post('https://example.com', '{}'::jsonb);\n",
                  config="postgres:\n  stand_ins: [pg_cron, pg_net]\n", seed="")
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out
    assert ("supabase/migrations: note: stand-ins used for the platform extensions pg_cron, "
            "pg_net: their functions do nothing") in result.lines


def test_missing_extension_exits_2_with_the_ways_to_get_it(apply_repo: Repo) -> None:
    apply_repo.write("db/migrations/001_init.sql", "create table a (id int);\n")
    apply_repo.commit("base")
    apply_repo.write("db/migrations/002_ext.sql", "create extension no_such_thing;\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 2, result.out + result.err
    error, hint = result.err.splitlines()
    assert error.startswith("migration-guard: error: the migrations create the extension "
                            "no_such_thing, which no PostgreSQL here ships (looked at: ")
    assert hint.startswith("  hint: install PostgreSQL with its extensions on the machine "
                           "(Debian/Ubuntu: `apt-get install postgresql-15`")


def test_virtual_generated_column_fails_under_major_15(apply_repo: Repo) -> None:
    apply_repo.write(".migration-guard.yaml", "postgres:\n  version: 15\n")
    apply_repo.write("db/migrations/001_init.sql", "create table a (id int);\n")
    apply_repo.commit("base")
    apply_repo.write("db/migrations/002_v.sql",
                     "alter table a add column twice int generated always as (id * 2) virtual;\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert result.lines[1].startswith("db/migrations/002_v.sql:1: MG201 migration failed to "
                                      "apply: ")


def test_other_major_is_a_note_and_strict_makes_it_exit_2(apply_repo: Repo) -> None:
    apply_repo.write(".migration-guard.yaml", "postgres:\n  version: 11\n")
    apply_repo.write("db/migrations/001_init.sql", "create table a (id int);\n")
    apply_repo.commit("base")
    apply_repo.write("db/migrations/002_b.sql", "create table b (id int);\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 0, result.out + result.err
    assert any(": note: production runs PostgreSQL 11 (postgres.version), but no server of "
               "that major is here: the migrations ran on " in line for line in result.lines)
    apply_repo.write(".migration-guard.yaml", "postgres:\n  version: 11\n  strict: true\n")
    apply_repo.add()
    strict = apply_repo.mg("apply")
    assert strict.code == 2
    assert strict.err.startswith("migration-guard: error: production runs PostgreSQL 11")


def test_invalid_utf8_fails_apply(apply_repo: Repo) -> None:
    apply_repo.write("db/migrations/001_init.sql", "create table a (id int);\n")
    apply_repo.commit("base")
    apply_repo.write("db/migrations/002_bad.sql",
                     b"create table b (id int);\ncomment on table b is 'caf\xe9';\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert result.lines[1].startswith("db/migrations/002_bad.sql:2: MG201 migration failed to "
                                      "apply: invalid byte sequence for encoding \"UTF8\"")


def test_lifted_statement_timeout_still_ends_at_the_run_limit(apply_repo: Repo) -> None:
    apply_repo.write(".migration-guard.yaml", "database:\n  run_timeout: 20\n")
    apply_repo.write("db/migrations/001_init.sql", "create table a (id int);\n")
    apply_repo.commit("base")
    apply_repo.write("db/migrations/002_sleep.sql",
                     "set statement_timeout = 0;\nselect pg_sleep(3600);\n")
    apply_repo.add()
    started = time.monotonic()
    result = apply_repo.mg("apply")
    assert time.monotonic() - started < 60
    assert result.code == 1, result.out + result.err
    assert result.lines[1] == (
        "db/migrations/002_sleep.sql: MG208 stopped: the whole run exceeded its limit of "
        "20 s (cancelled from the client side)")


def test_other_checks_findings_are_reported_when_apply_cannot_run(apply_repo: Repo) -> None:
    apply_repo.write(".migration-guard.yaml",
                     "checks: [lint, apply]\npostgres:\n  version: 11\n  strict: true\n")
    apply_repo.write("db/migrations/001_init.sql", "create table a (id int);\n")
    apply_repo.commit("base")
    apply_repo.write("db/migrations/002_drop.sql", "drop table a;\n")
    apply_repo.add()
    result = apply_repo.mg("check")
    assert result.code == 2, result.out + result.err
    assert any(" MG3" in line for line in result.lines), result.out
    assert result.err.startswith("migration-guard: error: production runs PostgreSQL 11")


def test_alembic_revision_creating_a_missing_extension_exits_2(apply_repo: Repo) -> None:
    alembic_base(apply_repo)
    stage_revision(apply_repo, 'op.execute("CREATE EXTENSION IF NOT EXISTS no_such_thing")')
    result = apply_repo.mg("apply")
    assert result.code == 2, result.out + result.err
    error, hint = result.err.splitlines()
    assert error.startswith("migration-guard: error: the migrations create the extension "
                            "no_such_thing, which no PostgreSQL here ships (looked at: ")
    assert hint.startswith("  hint: install PostgreSQL with its extensions on the machine ")


def test_alembic_revision_creating_uuid_ossp_gets_a_server_that_has_it(apply_repo: Repo) -> None:
    alembic_base(apply_repo)
    stage_revision(apply_repo, "op.execute('CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"')\n"
                   "    op.execute('SELECT uuid_generate_v4()')")
    result = apply_repo.mg("apply")
    assert result.code == 0, result.out + result.err
