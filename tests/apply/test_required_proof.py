"""``required --prove``: a model change judged on a database, by autogenerate and by the
catalog compare, on a real Alembic project in a real git repository."""

from __future__ import annotations

from conftest import Repo
from layouts import ALEMBIC_INI, ENV_PY
from layouts import MODELS as LAYOUT_MODELS

from apply.projects import alembic_base, revision

MODELS = """from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (Index("posts_user_idx", "user_id", postgresql_where=text("user_id > 0")),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    edited: Mapped[datetime | None] = mapped_column(DateTime)
"""

TABLES = ('op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), '
          'sa.Column("name", sa.String(100), nullable=False))\n'
          '    op.create_table("posts", sa.Column("id", sa.Integer, primary_key=True), '
          'sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False), '
          'sa.Column("edited", sa.DateTime))\n'
          '    op.create_index("posts_user_idx", "posts", ["user_id"], '
          'postgresql_where=sa.text("user_id > 0"))')
PROVEN = ("schema source changed but no migration was added to migrations/versions/ "
          "(proven on a database)")
HINT = ('  hint: generate one and stage it: alembic revision --autogenerate -m "<describe the '
        'change>"')
NO_EFFECT = ("app/models.py: note: the change has no schema effect: no migration needed (proven "
             "on a database: autogenerate and the catalog compare find the models equal to the "
             "migrated schema)")


def models_project(repo: Repo) -> None:
    """Models and migrations that agree, committed on main; a feature branch checked out."""
    files = {"alembic.ini": ALEMBIC_INI, "migrations/env.py": ENV_PY,
             "migrations/script.py.mako": "# template\n", "app/__init__.py": "",
             "app/models.py": MODELS,
             "migrations/versions/0001_init.py": revision("0001", None, TABLES)}
    for rel, content in files.items():
        repo.write(rel, content)
    repo.commit("base")
    repo.branch("feature")


def edit_models(repo: Repo, old: str, new: str) -> None:
    text = MODELS.replace(old, new)
    assert text != MODELS
    repo.write("app/models.py", text)
    repo.add()


def test_relationship_only_edit_passes_when_proven(apply_repo: Repo) -> None:
    models_project(apply_repo)
    edit_models(apply_repo, "mapped_column(ForeignKey(\"users.id\"))\n",
                "mapped_column(ForeignKey(\"users.id\"))\n"
                "    author: Mapped[User] = relationship()\n")
    apply_repo.write("app/models.py", (apply_repo.path / "app/models.py").read_text().replace(
        "mapped_column\n", "mapped_column, relationship\n"))
    apply_repo.add()
    assert apply_repo.mg("required").code == 1
    result = apply_repo.mg("required", "--prove")
    assert (result.code, result.err) == (0, ""), result.out
    assert result.lines[1:] == [NO_EFFECT, "no findings (required over 1 project)"]


def test_check_constraint_without_migration_fails_when_proven(apply_repo: Repo) -> None:
    models_project(apply_repo)
    edit_models(apply_repo, '    __tablename__ = "users"\n',
                '    __tablename__ = "users"\n'
                '    __table_args__ = (CheckConstraint("length(name) > 0", '
                'name="users_name_not_empty"),)\n')
    apply_repo.write("app/models.py", (apply_repo.path / "app/models.py").read_text().replace(
        "from sqlalchemy import ", "from sqlalchemy import CheckConstraint, "))
    apply_repo.add()
    result = apply_repo.mg("required", "--prove")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:] == [
        f"app/models.py: MG101 {PROVEN}: constraint public.users.users_name_not_empty "
        "(CHECK ((length((name)::text) > 0))) is in the models but not in the migrated database",
        HINT, "1 finding (required over 1 project)"]


def test_onupdate_and_renamed_class_pass_when_proven(apply_repo: Repo) -> None:
    models_project(apply_repo)
    edit_models(apply_repo, "class Post(Base):\n", "class Article(Base):\n")
    text = (apply_repo.path / "app/models.py").read_text().replace(
        "mapped_column(DateTime)", "mapped_column(DateTime, onupdate=datetime.now)")
    apply_repo.write("app/models.py", text)
    apply_repo.add()
    result = apply_repo.mg("required", "--prove")
    assert (result.code, result.err) == (0, ""), result.out


def test_partial_index_predicate_change_fails_when_proven(apply_repo: Repo) -> None:
    models_project(apply_repo)
    edit_models(apply_repo, 'text("user_id > 0")', 'text("user_id > 10")')
    result = apply_repo.mg("required", "--prove")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:] == [
        f"app/models.py: MG101 {PROVEN}: index public.posts_user_idx differs: CREATE INDEX "
        "posts_user_idx ON public.posts USING btree (user_id) WHERE (user_id > 10) in the "
        "models, CREATE INDEX posts_user_idx ON public.posts USING btree (user_id) WHERE "
        "(user_id > 0) in the migrated database",
        HINT, "1 finding (required over 1 project)"]


def test_new_column_fails_when_proven_by_autogenerate(apply_repo: Repo) -> None:
    models_project(apply_repo)
    edit_models(apply_repo, "    name: Mapped[str] = mapped_column(String(100))\n",
                "    name: Mapped[str] = mapped_column(String(100))\n"
                "    email: Mapped[str | None] = mapped_column(String(200))\n")
    result = apply_repo.mg("required", "--prove")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:] == [
        f"app/models.py: MG101 {PROVEN}: column 'users.email' (VARCHAR(200)) is in the models "
        "but not in the migrated database", HINT, "1 finding (required over 1 project)"]


def test_check_proves_when_apply_runs_too(apply_repo: Repo) -> None:
    models_project(apply_repo)
    edit_models(apply_repo, "class Post(Base):\n", "class Article(Base):\n")
    result = apply_repo.mg("check", "--checks", "required,apply")
    assert (result.code, result.err) == (0, ""), result.out
    assert [line for line in result.lines[1:] if ": note: server: " not in line] == [
        NO_EFFECT, "no findings (required, apply over 1 project)"]


def test_proof_without_target_metadata_is_exit_2(apply_repo: Repo) -> None:
    models_project(apply_repo)
    apply_repo.write(".migration-guard.yaml",
                     "projects:\n  - alembic_ini: alembic.ini\n    schema: [app/models.py]\n")
    apply_repo.write("migrations/env.py", ENV_PY.replace("target_metadata = Base.metadata",
                                                         "target_metadata = None"))
    apply_repo.git("commit", "-qam", "no target_metadata")
    edit_models(apply_repo, "String(100)", "String(200)")
    result = apply_repo.mg("required", "--prove")
    assert (result.code, result.out) == (2, ""), result.out
    assert result.err.splitlines() == [
        "migration-guard: error: cannot prove the model change: migrations/env.py gives no "
        "target_metadata, so there is nothing to compare the migrations with",
        "  hint: set target_metadata in env.py, or drop --prove"]


def drifting_project(repo: Repo) -> None:
    """The layouts' models declare users.name NOT NULL; the migration made it nullable."""
    alembic_base(repo)
    repo.branch("feature")


def test_drift_older_than_the_change_does_not_fail_it(apply_repo: Repo) -> None:
    drifting_project(apply_repo)
    apply_repo.write("app/models.py", LAYOUT_MODELS.replace("class User(", "class Member("))
    apply_repo.add()
    result = apply_repo.mg("required", "--prove")
    assert (result.code, result.err) == (0, ""), result.out


def test_only_the_differences_the_change_brings_are_listed(apply_repo: Repo) -> None:
    drifting_project(apply_repo)
    apply_repo.write("app/models.py", LAYOUT_MODELS + "    age: Mapped[int | None] = "
                     "mapped_column(Integer)\n")
    apply_repo.add()
    result = apply_repo.mg("required", "--prove")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:] == [
        f"app/models.py: MG101 {PROVEN}: column 'users.age' (INTEGER) is in the models but "
        "not in the migrated database", HINT, "1 finding (required over 1 project)"]
