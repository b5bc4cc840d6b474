"""What a project asks of the server, read from its files: extensions, seed paths, and
statements on stand-in extensions neutralised line for line."""

from __future__ import annotations

from migration_guard.apply.server_needs import extensions_created, with_stand_ins
from migration_guard.apply.sources import Unit
from migration_guard.frameworks.supabase_preset import seed_globs


def test_extensions_are_read_from_statements_not_comments_or_strings() -> None:
    unit = Unit("m.sql", "-- create extension postgis;\n"
                         "create extension if not exists \"uuid-ossp\" with schema extensions;\n"
                         "select 'create extension hstore';\nCREATE EXTENSION citext;\n")
    assert extensions_created([unit]) == {"uuid-ossp", "citext"}


def test_stand_in_statements_become_no_ops_of_the_same_lines() -> None:
    text = ("create table a (id int);\ncreate extension\n  pg_cron;\n"
            "select cron.schedule('x', '* * * * *', 'select 1');\n")
    replaced = with_stand_ins(Unit("m.sql", text), ["pg_cron"]).text
    assert replaced.count("\n") == text.count("\n")
    assert replaced.splitlines()[1] == "SELECT 'stand-in for extension pg_cron'"
    assert replaced.splitlines()[3] == text.splitlines()[3]


def test_seed_paths_come_from_the_cli_config() -> None:
    assert seed_globs("supabase/migrations", None) == ("supabase/seed.sql",)
    config = b"[db.seed]\nenabled = true\nsql_paths = ['./seeds/*.sql', 'extra.sql']\n"
    assert seed_globs("supabase/migrations", config) == ("supabase/seeds/*.sql",
                                                         "supabase/extra.sql")
    assert seed_globs("supabase/migrations", b"[db.seed]\nenabled = false\n") == ()
