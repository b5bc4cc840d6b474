"""Small Alembic projects for the apply tests, built on the layouts' alembic files."""

from __future__ import annotations

from conftest import Repo
from layouts import BY_NAME

USERS = ('op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), '
         'sa.Column("name", sa.String(100)))')


def revision(rev: str, down: str | None, up: str = "pass", down_body: str = "pass") -> str:
    return (f'"""{rev}"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
            f"depends_on = None\n\n\ndef upgrade():\n    {up}\n\n\n"
            f"def downgrade():\n    {down_body}\n")


def alembic_base(repo: Repo, *, config: str = "", env_py: str | None = None) -> None:
    """The alembic layout with a users table on main."""
    for rel, content in BY_NAME["alembic"].files.items():
        repo.write(rel, content)
    repo.write("migrations/versions/0001_init.py", revision("0001", None))
    repo.write("migrations/versions/0002_users.py",
               revision("0002", "0001", USERS, 'op.drop_table("users")'))
    if env_py is not None:
        repo.write("migrations/env.py", env_py)
    if config:
        repo.write(".migration-guard.yaml", config)
    repo.commit("base")


def stage_revision(repo: Repo, up: str, down: str = "pass", rev: str = "0003") -> str:
    path = f"migrations/versions/{rev}_change.py"
    repo.write(path, revision(rev, "0002", up, down))
    repo.add()
    return path
