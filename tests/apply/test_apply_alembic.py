"""Alembic through the apply check: in process on materialised files, round trips, drift."""

from __future__ import annotations

import psycopg
import pytest
from conftest import Repo
from layouts import ENV_PY

from apply.projects import alembic_base, revision, stage_revision
from migration_guard.db.remote import Marker, parse_marker
from migration_guard.db.tempdirs import process_start_time

ROUNDTRIP = "projects:\n  - alembic_ini: alembic.ini\n    roundtrip: new\n"
DRIFT = "projects:\n  - alembic_ini: alembic.ini\n    drift: true\n"
SECRET = "hunter2secret"
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def test_new_revision_applies(apply_repo: Repo) -> None:
    alembic_base(apply_repo)
    stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))')
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out


def test_failing_revision_reports_its_line(apply_repo: Repo) -> None:
    alembic_base(apply_repo)
    path = stage_revision(apply_repo, 'op.execute("select * from nowhere")')
    result = apply_repo.mg("apply")
    assert result.code == 1
    assert result.lines[1] == (
        f'{path}:12: MG201 upgrade failed: relation "nowhere" does not exist [SQLSTATE 42P01]; '
        "statement: select * from nowhere")


def test_python_syntax_error_reports_its_line(apply_repo: Repo) -> None:
    alembic_base(apply_repo)
    path = stage_revision(apply_repo, "op.execute(")
    result = apply_repo.mg("apply")
    assert result.code == 1
    assert result.lines[1].startswith(f"{path}:12: MG201 upgrade failed: SyntaxError: ")


def test_not_null_column_fails_on_sample_rows(apply_repo: Repo) -> None:
    alembic_base(apply_repo)
    path = stage_revision(
        apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer, nullable=False))')
    result = apply_repo.mg("apply")
    assert result.code == 1
    assert result.lines[1].startswith(
        f"{path}:12: MG207 fails on the base's schema with 3 sample rows per table: upgrade "
        'failed: column "age" of relation "users" contains null values [SQLSTATE 23502]')


def test_failing_downgrade(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config=ROUNDTRIP)
    path = stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))',
                          'op.drop_column("users", "nope")')
    result = apply_repo.mg("apply")
    assert result.code == 1
    assert result.lines[1].startswith(f"{path}:16: MG204 downgrade of 0003 failed: ")


def test_downgrade_that_leaves_a_column_behind(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config=ROUNDTRIP)
    path = stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))')
    result = apply_repo.mg("apply")
    assert result.code == 1
    assert result.lines[1] == (
        f"{path}: MG205 the downgrade of 0003 does not restore the schema: column "
        "public.users.age (integer null) is in the schema after the downgrade of 0003 but not "
        "in the schema before the upgrade")


def test_roundtrip_of_a_clean_revision_passes(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config=ROUNDTRIP)
    stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))',
                   'op.drop_column("users", "age")')
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out


MODELS_WITH_ENUM = """from sqlalchemy import CheckConstraint, Enum, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("id > 0", name="users_id_positive"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    mood: Mapped[str | None] = mapped_column(Enum("happy", "sad", "meh", name="mood"))
"""


def test_drift_sees_enum_values_and_check_constraints(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config=DRIFT)
    apply_repo.write("app/models.py", MODELS_WITH_ENUM)
    mood = 'sa.Enum("happy", "sad", name="mood")'
    stage_revision(apply_repo, f'{mood}.create(op.get_bind()); '
                   f'op.add_column("users", sa.Column("mood", {mood}))')
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:5] == [
        "migrations/env.py: MG206 drift: constraint public.users.users_id_positive (CHECK "
        "((id > 0))) is in the models but not in the migrated database",
        "  hint: generate a migration for it: alembic revision --autogenerate -m \"<describe "
        "the change>\"",
        "migrations/env.py: MG206 drift: type public.mood differs: enum ('happy', 'sad', 'meh') "
        "in the models, enum ('happy', 'sad') in the migrated database",
        "  hint: generate a migration for it: alembic revision --autogenerate -m \"<describe "
        "the change>\"",
    ]


def test_drift_is_the_same_when_the_models_schema_comes_from_the_cache(
        apply_repo: Repo) -> None:
    alembic_base(apply_repo, config=DRIFT + "    trace: off\n")  # its table shows timings
    apply_repo.write("app/models.py", MODELS_WITH_ENUM)
    mood = 'sa.Enum("happy", "sad", name="mood")'
    stage_revision(apply_repo, f'{mood}.create(op.get_bind()); '
                   f'op.add_column("users", sa.Column("mood", {mood}))')
    first, second = apply_repo.mg("apply"), apply_repo.mg("apply")
    assert first.code == second.code == 1, first.out + first.err
    assert second.lines == first.lines
    assert any("MG206" in line and "public.mood" in line for line in second.lines)


def test_drift_reports_autogenerate_differences(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config=DRIFT)
    apply_repo.write("app/models.py", MODELS_WITH_ENUM.replace(
        '    mood: Mapped[str | None] = mapped_column(Enum("happy", "sad", "meh", name="mood"))\n',
        "").replace('    __table_args__ = (CheckConstraint("id > 0", name="users_id_positive"),)\n',
                    ""))
    stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))',
                   'op.drop_column("users", "age")')
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert result.lines[1] == ("migrations/env.py: MG206 drift: column 'users.age' (INTEGER) is "
                               "in the migrated database but not in the models")
    assert len([line for line in result.lines if "MG206" in line]) == 1


ENV_READS_DATABASE_URL = ENV_PY.replace(
    "from alembic import context\n", "import os\n\nfrom alembic import context\n").replace(
    "    connectable = engine_from_config(config.get_section(config.config_ini_section),\n"
    "                                     prefix=\"sqlalchemy.\", poolclass=pool.NullPool)\n",
    "    from sqlalchemy import create_engine\n"
    "    connectable = create_engine(os.environ[\"DATABASE_URL\"], poolclass=pool.NullPool)\n")


def test_env_py_reading_database_url_gets_the_throwaway_database(apply_repo: Repo) -> None:
    assert "os.environ" in ENV_READS_DATABASE_URL
    alembic_base(apply_repo, env_py=ENV_READS_DATABASE_URL)
    stage_revision(apply_repo, 'op.execute("select 1")')
    env = dict(apply_repo.env,
               DATABASE_URL=f"postgresql://prod:{SECRET}@db.example.invalid:5432/prod",
               PGPASSWORD=SECRET, PGHOST="db.example.invalid")
    result = apply_repo.mg("apply", env=env)
    assert (result.code, result.err) == (0, ""), result.out
    failing = stage_revision(apply_repo, 'op.execute("select * from nowhere")')
    result = apply_repo.mg("apply", env=env)
    assert result.code == 1
    assert result.lines[1].startswith(f"{failing}:12: MG201 upgrade failed: relation \"nowhere\"")
    assert SECRET not in result.out + result.err


SETTINGS_PY = 'import os\n\nDATABASE_URL = os.environ["DATABASE_URL"]\n'
ENV_FROM_SETTINGS = ENV_PY.replace(
    "from app.models import Base\n",
    "from app.models import Base\nfrom app.settings import DATABASE_URL\n").replace(
    "    connectable = engine_from_config(config.get_section(config.config_ini_section),\n"
    "                                     prefix=\"sqlalchemy.\", poolclass=pool.NullPool)\n",
    "    from sqlalchemy import create_engine\n"
    "    connectable = create_engine(DATABASE_URL, poolclass=pool.NullPool)\n")


def test_settings_read_at_import_name_each_database_in_turn(apply_repo: Repo) -> None:
    """A project module that reads the URL when imported is imported again for each
    database: the upgrade path runs on its own database, not on the one before it."""
    assert "create_engine(DATABASE_URL" in ENV_FROM_SETTINGS
    apply_repo.write("app/settings.py", SETTINGS_PY)
    alembic_base(apply_repo, config=ROUNDTRIP, env_py=ENV_FROM_SETTINGS)
    path = stage_revision(
        apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer, nullable=False))',
        'op.drop_column("users", "age")')
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert result.lines[1].startswith(
        f"{path}:12: MG207 fails on the base's schema with 3 sample rows per table: ")


def test_revision_importing_settings_sees_the_database_it_runs_on(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config=ROUNDTRIP)
    apply_repo.write("app/settings.py", SETTINGS_PY)
    path = "migrations/versions/0003_change.py"
    apply_repo.write(path, revision("0003", "0002", "check()", "check()").replace(
        "import sqlalchemy as sa\n",
        "import sqlalchemy as sa\n\nfrom app.settings import DATABASE_URL\n\n\n"
        "def check():\n"
        "    assert op.get_bind().engine.url.database == "
        "sa.engine.make_url(DATABASE_URL).database\n"))
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out


def test_upgrade_path_on_a_server_given_by_url_leaves_no_database(apply_repo: Repo) -> None:
    """On a server given by URL the base state is a database of ours, used as the template
    and then for the upgrade path itself; every database of the run is dropped."""
    try:
        psycopg.connect(LOCAL_URL, connect_timeout=2).close()
    except psycopg.Error:
        pytest.skip(f"no PostgreSQL at {LOCAL_URL}")
    alembic_base(apply_repo, config=ROUNDTRIP)
    path = stage_revision(
        apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer, nullable=False))',
        'op.drop_column("users", "age")')
    before = _databases(LOCAL_URL)
    result = apply_repo.mg("apply", "--database-url", LOCAL_URL)
    assert result.code == 1, result.out + result.err
    assert result.lines[1].startswith(
        f"{path}:12: MG207 fails on the base's schema with 3 sample rows per table: ")
    left = {name: marker for name, marker in _databases(LOCAL_URL).items()
            if name not in before}
    # Another run against the same server may be under way: only databases of runs that
    # are over (ours is) must be gone.
    assert not [name for name, marker in left.items()
                if marker is not None and process_start_time(marker.pid) != marker.start]


def _databases(url: str) -> dict[str, Marker | None]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT datname, shobj_description(oid, 'pg_database') "
                            "FROM pg_database").fetchall()
    return {name: parse_marker(comment) for name, comment in rows}
