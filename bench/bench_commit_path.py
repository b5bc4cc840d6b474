"""Benchmark the commit path: ``check --fast`` with one new Alembic revision staged in a
1,000-revision project, first run (nothing cached) and cached run, against the floor of
importing what rendering needs; and with only SQL staged. Prints figures, not a test.

The repository holds one Alembic project (1,000 revisions in one chain, a real offline
``env.py`` whose ``target_metadata`` comes from SQLAlchemy models) and one plain SQL
project. Two index files stage the two cases: a new revision, or a new SQL migration.
Every command runs as a whole process, alternating, ``--runs`` times; "first run" points
``XDG_CACHE_HOME`` at an empty directory each time, "cached" at one filled beforehand.
Everything runs from a normal (non-editable) install of this project in a cached venv
(``peers.project_venv``), as pre-commit installs it.

    python bench/bench_commit_path.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from peers import project_venv  # bench/ is on sys.path: run as a script

REVISION = '"""r{n}"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n' \
    'revision = "r{n:04d}"\n' \
    "down_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n" \
    "    op.create_table('t{n}', sa.Column('id', sa.BigInteger, primary_key=True))\n\n\n" \
    "def downgrade():\n    op.drop_table('t{n}')\n"
NEW_REVISION = REVISION.replace("op.create_table('t{n}', sa.Column('id', sa.BigInteger, "
                                "primary_key=True))",
                                "op.execute(\"set lock_timeout = '2s'\")\n"
                                "    op.add_column('t1', sa.Column('note', sa.Text))")
ENV_PY = """from alembic import context

from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    raise SystemExit("offline only")
"""
MODELS = """from sqlalchemy import BigInteger, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
"""


def git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def build(repo: Path, env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The repository, and the environments staging a new revision / a new SQL file."""
    files: dict[str, str] = {
        "alembic.ini": "[alembic]\nscript_location = migrations\nprepend_sys_path = .\n"
                       "sqlalchemy.url = postgresql://localhost/app\n",
        "migrations/env.py": ENV_PY,
        "migrations/script.py.mako": "# template\n",
        "app/__init__.py": "",
        "app/models.py": MODELS,
    }
    for n in range(1, 1001):
        down = "None" if n == 1 else f'"r{n - 1:04d}"'
        files[f"migrations/versions/r{n:04d}_step.py"] = REVISION.format(n=n, down=down)
    for n in range(1, 101):
        files[f"db/migrations/{n:04d}_step.sql"] = f"create table s{n} (id bigint);\n"
    for rel, content in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    git(repo, "init", "-q", "-b", "main", env=env)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "base", env=env)
    git(repo, "checkout", "-q", "-b", "feature", env=env)
    index = repo / ".git" / "index"
    (repo / "migrations/versions/r1001_new.py").write_text(
        NEW_REVISION.format(n=1001, down='"r1000"'))
    git(repo, "add", "migrations/versions/r1001_new.py", env=env)
    shutil.copy(index, repo / ".git" / "index-alembic")
    git(repo, "reset", "-q", env=env)
    (repo / "db/migrations/0101_new.sql").write_text(
        "set lock_timeout = '2s';\nalter table s1 add column note text;\n")
    git(repo, "add", "db/migrations/0101_new.sql", env=env)
    shutil.copy(index, repo / ".git" / "index-sql")
    return ({**env, "GIT_INDEX_FILE": str(repo / ".git" / "index-alembic")},
            {**env, "GIT_INDEX_FILE": str(repo / ".git" / "index-sql")})


def timed(cmd: list[str], repo: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time, and CPU time (user + system, the process and what it waited for): on
    a machine shared with other work the CPU time drifts far less than the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=repo, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    # A normal install, as pre-commit makes for users: an editable one's import finder
    # would add its own start-up cost to every process timed, floors included.
    python = str(project_venv())
    script = str(Path(python).with_name("migration-guard"))
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        base_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("GIT_") and k != "PYTHONDONTWRITEBYTECODE"}
        base_env.update(GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b",
                        GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b")
        alembic_env, sql_env = build(repo, base_env)
        warm = Path(tmp) / "warm-cache"
        subprocess.run([script, "check", "--fast"], cwd=repo, check=False, capture_output=True,
                       env={**alembic_env, "XDG_CACHE_HOME": str(warm)})
        cold_root = Path(tmp) / "cold"

        def cold_env() -> dict[str, str]:
            shutil.rmtree(cold_root, ignore_errors=True)
            return {**alembic_env, "XDG_CACHE_HOME": str(cold_root)}

        floor_imports = "import alembic.command, alembic.config, sqlalchemy.orm"
        commands: dict[str, tuple[list[str], Callable[[], dict[str, str]]]] = {
            "floor: python -c pass": ([python, "-c", "pass"], lambda: alembic_env),
            "floor: import alembic + SQLAlchemy": ([python, "-c", floor_imports],
                                                   lambda: alembic_env),
            "check --fast, 1 revision, first run": ([script, "check", "--fast"], cold_env),
            "check --fast, 1 revision, cached": ([script, "check", "--fast"],
                                                 lambda: {**alembic_env,
                                                          "XDG_CACHE_HOME": str(warm)}),
            "lint, 1 revision, first run": ([script, "lint"], cold_env),
            "check --fast, only SQL staged": ([script, "check", "--fast"],
                                              lambda: {**sql_env, "XDG_CACHE_HOME": str(warm)}),
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (cmd, make_env) in commands.items():
                wall, cpu = timed(cmd, repo, make_env())
                walls[name].append(wall)
                cpus[name].append(cpu)
        wall_ms = {name: statistics.median(values) * 1000 for name, values in walls.items()}
        cpu_ms = {name: statistics.median(values) * 1000 for name, values in cpus.items()}
        floor_name = "floor: import alembic + SQLAlchemy"
        print(f"1,000-revision Alembic project + 100 SQL migrations; {args.runs} runs each, "
              f"alternating; medians; load average {os.getloadavg()[0]:.1f}")
        print(f"{'what':40} {'wall ms':>9} {'- floor':>9} {'cpu ms':>9} {'- floor':>9}")
        for name in commands:
            print(f"{name:40} {wall_ms[name]:9.1f} {wall_ms[name] - wall_ms[floor_name]:+9.1f} "
                  f"{cpu_ms[name]:9.1f} {cpu_ms[name] - cpu_ms[floor_name]:+9.1f}")
        print("targets: first run <= import floor + 150 ms; cached run and only-SQL run import "
              "neither alembic nor SQLAlchemy")
        for label, env in (("new revision, cached", {**alembic_env,
                                                     "XDG_CACHE_HOME": str(warm)}),
                           ("only SQL staged", {**sql_env, "XDG_CACHE_HOME": str(warm)})):
            probe = ("import sys\nfrom migration_guard.cli import main\nmain(['check', '--fast'])"
                     "\nprint(sorted(m for m in ('alembic', 'sqlalchemy') if m in sys.modules))")
            out = subprocess.run([python, "-c", probe], cwd=repo, env=env, text=True,
                                 capture_output=True, check=False).stdout.splitlines()
            print(f"imported by check --fast ({label}): {out[-1] if out else '?'}")


if __name__ == "__main__":
    main()
