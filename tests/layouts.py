"""One small, real project per supported layout, committed to ``main`` of a test repo.

Each layout knows a merged migration, how to add a correctly ordered new migration, an
out-of-order one, a badly named one, and (where the framework has one) a schema source.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import NamedTuple

from conftest import Repo

ALEMBIC_INI = """[alembic]
script_location = migrations
prepend_sys_path = .
sqlalchemy.url = postgresql://localhost/app
"""

ENV_PY = """from alembic import context
from sqlalchemy import engine_from_config, pool

from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = engine_from_config(config.get_section(config.config_ini_section),
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""

MODELS = """from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
"""


def revision(rev: str, down: str | None, body: str = "pass") -> str:
    return (f'"""{rev}"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
            f"depends_on = None\n\n\ndef upgrade():\n    {body}\n\n\ndef downgrade():\n    pass\n")


def journal(tags: list[str]) -> str:
    entries = [{"idx": i, "version": "7", "when": 1700000000000 + i * 1000, "tag": t,
                "breakpoints": True} for i, t in enumerate(tags)]
    return json.dumps({"version": "7", "dialect": "postgresql", "entries": entries}, indent=2)


class Layout(NamedTuple):
    name: str
    files: dict[str, str]  # committed on main
    merged: str  # a merged migration
    new: Callable[[Repo], str]  # writes a correct new migration, returns its path
    old: Callable[[Repo], str]  # writes an out-of-order new migration
    bad_name: str | None  # a path in the migrations dir with an invalid name
    schema: str | None  # a schema source file (appended to, to change it)
    out_of_order_code: str = "MG110"


def _writer(files: dict[str, str], path: str) -> Callable[[Repo], str]:
    def write(repo: Repo) -> str:
        for rel, content in files.items():
            repo.write(rel, content)
        return path
    return write


def _sql(path: str) -> Callable[[Repo], str]:
    return _writer({path: "create table t2 (id bigint primary key);\n"}, path)


LAYOUTS: list[Layout] = [
    Layout(
        "alembic",
        {"alembic.ini": ALEMBIC_INI, "migrations/env.py": ENV_PY,
         "migrations/script.py.mako": "# template\n", "app/__init__.py": "",
         "app/models.py": MODELS, "app/views.py": "def index():\n    return 'hi'\n",
         "migrations/versions/0001_init.py": revision("0001", None),
         "migrations/versions/0002_users.py": revision("0002", "0001")},
        "migrations/versions/0002_users.py",
        _writer({"migrations/versions/0003_more.py": revision("0003", "0002")},
                "migrations/versions/0003_more.py"),
        _writer({"migrations/versions/0003_branch.py": revision("0003", "0001")},
                "migrations/versions/0003_branch.py"),
        None, "app/models.py", out_of_order_code="MG113",
    ),
    Layout(
        "supabase",
        {"supabase/config.toml": "project_id = 'x'\n",
         "supabase/schemas/users.sql": "create table users (id bigint primary key);\n",
         "supabase/migrations/20240101000000_init.sql": "create table a (id int);\n",
         "supabase/migrations/20240102000000_users.sql": "create table users (id int);\n"},
        "supabase/migrations/20240102000000_users.sql",
        _sql("supabase/migrations/20240103000000_more.sql"),
        _sql("supabase/migrations/20231231000000_old.sql"),
        "supabase/migrations/add_users.sql", "supabase/schemas/users.sql",
    ),
    Layout(
        "drizzle",
        {"drizzle.config.ts": "export default { schema: './src/db/schema.ts', out: './drizzle',"
                              " dialect: 'postgresql' };\n",
         "src/db/schema.ts": "export const users = pgTable('users', {});\n",
         "drizzle/0000_init.sql": "CREATE TABLE a (id int);\n",
         "drizzle/0001_users.sql": "CREATE TABLE users (id int);\n",
         "drizzle/meta/_journal.json": journal(["0000_init", "0001_users"])},
        "drizzle/0001_users.sql",
        _writer({"drizzle/0002_more.sql": "CREATE TABLE t2 (id int);\n",
                 "drizzle/meta/_journal.json": journal(["0000_init", "0001_users",
                                                        "0002_more"])}, "drizzle/0002_more.sql"),
        _writer({"drizzle/0001_other.sql": "CREATE TABLE t2 (id int);\n",
                 "drizzle/meta/_journal.json": journal(["0000_init", "0001_other",
                                                        "0001_users"])},
                "drizzle/0001_other.sql"),
        "drizzle/users.sql", "src/db/schema.ts", out_of_order_code="MG112",
    ),
    Layout(
        "flyway",
        {"flyway.conf": "flyway.locations=filesystem:sql\n",
         "sql/V1__init.sql": "create table a (id int);\n",
         "sql/V2__users.sql": "create table users (id int);\n",
         "sql/R__views.sql": "create or replace view v as select 1;\n"},
        "sql/V2__users.sql", _sql("sql/V3__more.sql"), _sql("sql/V1_5__old.sql"),
        "sql/V3_more.sql", None,
    ),
    Layout(
        "prisma",
        {"prisma/schema.prisma": "model User {\n  id Int @id\n}\n",
         "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
         "prisma/migrations/20240101000000_init/migration.sql": "CREATE TABLE a (id int);\n",
         "prisma/migrations/20240102000000_users/migration.sql": "CREATE TABLE u (id int);\n"},
        "prisma/migrations/20240102000000_users/migration.sql",
        _sql("prisma/migrations/20240103000000_more/migration.sql"),
        _sql("prisma/migrations/20231231000000_old/migration.sql"),
        "prisma/migrations/more/migration.sql", "prisma/schema.prisma",
    ),
    Layout(
        "dbmate",
        {"db/migrations/20240101000000_init.sql":
             "-- migrate:up\ncreate table a (id int);\n\n-- migrate:down\ndrop table a;\n",
         "db/migrations/20240102000000_users.sql":
             "-- migrate:up\ncreate table u (id int);\n\n-- migrate:down\ndrop table u;\n"},
        "db/migrations/20240102000000_users.sql",
        _sql("db/migrations/20240103000000_more.sql"),
        _sql("db/migrations/20231231000000_old.sql"),
        "db/migrations/more.sql", None,
    ),
    Layout(
        "golang-migrate",
        {"migrations/000001_init.up.sql": "create table a (id int);\n",
         "migrations/000001_init.down.sql": "drop table a;\n",
         "migrations/000005_users.up.sql": "create table u (id int);\n",
         "migrations/000005_users.down.sql": "drop table u;\n"},
        "migrations/000005_users.up.sql",
        _sql("migrations/000006_more.up.sql"), _sql("migrations/000003_old.up.sql"),
        "migrations/more.up.sql", None,
    ),
    Layout(
        "sql",
        {"db/migrations/001_init.sql": "create table a (id int);\n",
         "db/migrations/005_users.sql": "create table u (id int);\n"},
        "db/migrations/005_users.sql", _sql("db/migrations/006_more.sql"),
        _sql("db/migrations/003_old.sql"), "db/migrations/more.sql", None,
    ),
]

BY_NAME = {layout.name: layout for layout in LAYOUTS}


def setup(repo: Repo, layout: Layout) -> None:
    for rel, content in layout.files.items():
        repo.write(rel, content)
    repo.commit("base migrations")


def branched_and_merged(repo: Repo, config: str) -> None:
    """0003a and 0003b both follow 0002; the change adds them and a merge revision."""
    setup(repo, BY_NAME["alembic"])
    if config:
        repo.commit("config", ".migration-guard.yaml", config)
    repo.branch("feature")
    repo.write("migrations/versions/0003a_left.py", revision("0003a", "0002"))
    repo.write("migrations/versions/0003b_right.py", revision("0003b", "0002"))
    repo.write("migrations/versions/0004_merge.py", revision("0004", None).replace(
        "down_revision = None", "down_revision = ('0003a', '0003b')"))
    repo.add()
