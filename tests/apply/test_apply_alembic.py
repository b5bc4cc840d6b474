"""Alembic through the apply check: in process on materialised files, round trips, drift."""

from __future__ import annotations

from conftest import Repo
from layouts import ENV_PY

from apply.projects import alembic_base, stage_revision

ROUNDTRIP = "projects:\n  - alembic_ini: alembic.ini\n    roundtrip: new\n"
DRIFT = "projects:\n  - alembic_ini: alembic.ini\n    drift: true\n"
SECRET = "hunter2secret"


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
