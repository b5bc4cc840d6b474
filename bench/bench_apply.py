"""Benchmark of the apply check; prints figures, asserts nothing.

Run: ``python bench/bench_apply.py [per|top|pa] [--runs 9]``. Measures: per-migration
cost of Alembic revisions and SQL files from generated projects of 50/200/1,000 migrations
against stock ``alembic upgrade`` on the same server; one new migration on top of 1,000
merged ones with the cached base state; and apply + single head + drift + round trip of the
new revision on a 200-revision project against pytest-alembic's default tests on the same
project. pytest-alembic is pinned (it needs pytest < 9) and installed by the benchmark into
a cached venv; a run of ours or of the peer that fails stops the benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from peers import ROOT, PeerFailed, pinned_venv, run_checked, write_files  # bench/ is on sys.path

sys.path.insert(0, str(ROOT))
# The peer's pins: pytest-alembic 0.13.1 errors at collection under pytest 9; alembic,
# SQLAlchemy and psycopg as this project's test environment has them.
PA_PINS = ("pytest-alembic==0.13.1", "pytest==8.4.2", "alembic==1.20.1", "SQLAlchemy==2.1.9",
           "psycopg[binary]==3.3.9")
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

ALEMBIC_INI = "[alembic]\nscript_location = migrations\nprepend_sys_path = .\n" \
              "sqlalchemy.url = postgresql+psycopg://localhost/app\n"
ENV_PY = """from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlalchemy.engine import Connection

from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online():
    connectable = config.attributes.get("connection", None)
    if connectable is None:
        connectable = engine_from_config(config.get_section(config.config_ini_section),
                                         prefix="sqlalchemy.", poolclass=pool.NullPool)
    if isinstance(connectable, Connection):
        run(connectable)
    else:
        with connectable.connect() as connection:
            run(connection)


def run(connection):
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
"""
PA_CONFTEST = """import pytest
import sqlalchemy as sa


@pytest.fixture
def alembic_engine():
    return sa.create_engine({url!r})
"""


def revision(index: int) -> str:
    down = repr(f"r{index - 1:04d}") if index else "None"
    return (f'"""r{index}"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
            f"revision = 'r{index:04d}'\ndown_revision = {down}\nbranch_labels = None\n"
            f"depends_on = None\n\n\ndef upgrade():\n    op.create_table('t{index}', "
            f"sa.Column('id', sa.Integer, primary_key=True), sa.Column('name', sa.Text, "
            f"nullable=False))\n\n\ndef downgrade():\n    op.drop_table('t{index}')\n")


def models(count: int) -> str:
    lines = ["from sqlalchemy import Integer, Text",
             "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column", "", "",
             "class Base(DeclarativeBase):", "    pass", ""]
    for i in range(count):
        lines += ["", f"class T{i}(Base):", f"    __tablename__ = 't{i}'",
                  "    id: Mapped[int] = mapped_column(Integer, primary_key=True)",
                  "    name: Mapped[str] = mapped_column(Text)", ""]
    return "\n".join(lines)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "b@example.com")
    git(path, "config", "user.name", "bench")
    return path


def alembic_project(repo: Path, count: int, *, model_count: int | None = None,
                    config: str = "") -> None:
    files = {"alembic.ini": ALEMBIC_INI, "migrations/env.py": ENV_PY,
             "migrations/script.py.mako": "# template\n", "app/__init__.py": "",
             "app/models.py": models(count if model_count is None else model_count)}
    files.update({f"migrations/versions/r{i:04d}_t.py": revision(i) for i in range(count)})
    if config:
        files[".migration-guard.yaml"] = config
    write_files(repo, files)


def sql_project(repo: Path, count: int) -> None:
    write_files(repo, {f"db/migrations/{i:05d}_t.sql":
                 f"-- migration {i}\nCREATE TABLE t{i} (id bigint, name text NOT NULL);\n"
                 for i in range(count)})


def run_cli(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[float, int]:
    """The whole apply check in process (imports already paid); seconds and exit code."""
    from migration_guard.cli import run

    cwd = os.getcwd()
    os.chdir(repo)
    try:
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = run(list(args), env or dict(os.environ))
        elapsed = time.perf_counter() - started
    finally:
        os.chdir(cwd)
    if code != 0:
        raise PeerFailed(f"migration-guard {' '.join(args)} exited {code} in {repo}",
                         out.getvalue())
    return elapsed, code


def process(repo: Path, *args: str, python: str = sys.executable) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return run_checked([python, "-m", "migration_guard", *args], cwd=repo, env=env)


def stock_upgrade(repo: Path, server: Any) -> float:
    """Plain ``alembic.command.upgrade(cfg, "heads")`` in process on a fresh database of a
    throwaway server like ours: the floor that the per-revision cost is compared with."""
    from alembic import command
    from alembic.config import Config

    from migration_guard.apply.alembic_run import sqlalchemy_url

    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        del sys.modules[name]  # each run imports the models, as ours does
    database = server.create_database()
    cfg = Config(str(repo / "alembic.ini"), stdout=io.StringIO())
    url = sqlalchemy_url(database.conninfo, statement_timeout_s=300, lock_timeout_s=300)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cwd, path = os.getcwd(), list(sys.path)
    os.chdir(repo)
    sys.path.insert(0, str(repo))  # "prepend_sys_path = ." may meet a finder of another cwd
    try:
        started = time.perf_counter()
        command.upgrade(cfg, "heads")
        return time.perf_counter() - started
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        server.drop_database(database)


def per_migration(kind: str, base: Path, runs: int) -> None:
    from migration_guard.db.provider import open_server

    times: dict[int, float] = {}
    floor: dict[int, float] = {}
    with open_server(cache_dir=base / "stock-cache") as server:
        for count in (50, 200, 1000):
            repo = make_repo(base / f"{kind}{count}")
            if kind == "alembic":
                alembic_project(repo, count, model_count=1)  # model imports: not per revision
            else:
                sql_project(repo, count)
            git(repo, "add", "-A")
            run_cli(repo, "apply", "--all")  # warm imports and the cluster cache
            ours, stock = [], []
            for _ in range(runs):  # alternating, so that machine drift hits both alike
                ours.append(run_cli(repo, "apply", "--all")[0])
                if kind == "alembic":
                    stock.append(stock_upgrade(repo, server))
            times[count] = statistics.median(ours)
            line = (f"{kind:7} {count:5} migrations from empty: {times[count] * 1000:7.1f} ms "
                    f"({times[count] / count * 1000:.2f} ms each, fixed costs included)")
            if stock:
                floor[count] = statistics.median(stock)
                line += f"; stock alembic upgrade alone {floor[count] * 1000:.1f} ms"
            print(line)
    slope = (times[1000] - times[50]) / 950 * 1000
    target = 1.2 if kind == "alembic" else 0.6
    print(f"{kind:7} marginal cost per migration (50 -> 1000): {slope:.2f} ms "
          f"(target <= {target})")
    if floor:
        stock_slope = (floor[1000] - floor[50]) / 950 * 1000
        print(f"{kind:7} stock `alembic upgrade heads` in process, same server, same run: "
              f"{stock_slope:.2f} ms per revision; ratio ours/stock {slope / stock_slope:.2f}")


def one_on_top(kind: str, base: Path, runs: int) -> None:
    repo = make_repo(base / f"top-{kind}")
    if kind == "alembic":
        alembic_project(repo, 1000, model_count=1)
    else:
        sql_project(repo, 1000)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    if kind == "alembic":
        write_files(repo, {"migrations/versions/r1000_t.py": revision(1000)})
    else:
        write_files(repo, {"db/migrations/01000_t.sql": "CREATE TABLE t1000 (id bigint);\n"})
    git(repo, "add", "-A")
    cold = run_cli(repo, "apply")[0]
    warm = statistics.median(run_cli(repo, "apply")[0] for _ in range(runs))
    whole = statistics.median(process(repo, "apply") for _ in range(runs))
    print(f"{kind:7} one new on 1,000 merged: first run (builds the cache) {cold:.2f} s, "
          f"cached {warm * 1000:.0f} ms in process (target <= 500), whole process "
          f"{whole * 1000:.0f} ms")


@contextlib.contextmanager
def local_database() -> Iterator[str | None]:
    import psycopg

    try:
        admin = psycopg.connect(LOCAL_URL, autocommit=True, connect_timeout=2)
    except psycopg.Error:
        yield None
        return
    name = f"mgbench_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)'.encode())
        admin.close()


def run_pytest_alembic(python: Path, repo: Path, url: str) -> float:
    """One run of pytest-alembic's default tests; stops the benchmark unless they pass."""
    write_files(repo, {"tests/conftest.py": PA_CONFTEST.format(url=url)})
    return run_checked([str(python), "-m", "pytest", "--test-alembic", "-q", "-p",
                        "no:cacheprovider", "tests"], cwd=repo)


def versus_pytest_alembic(base: Path, runs: int) -> None:
    """Alternating rounds: ours (whole process, cached), pytest-alembic on the local
    PostgreSQL 15 (durable: fsync on), pytest-alembic on a throwaway server like ours
    (tmpfs, durability off): the second ratio compares the tools, not the disks."""
    from migration_guard.apply.alembic_run import sqlalchemy_url
    from migration_guard.db.provider import open_server

    config = "projects:\n  - alembic_ini: alembic.ini\n    roundtrip: new\n    drift: true\n"
    repo = make_repo(base / "pa200")
    alembic_project(repo, 200, config=config)
    git(repo, "add", "-A")
    git(repo, "reset", "-q", "--", "migrations/versions/r0199_t.py")
    git(repo, "commit", "-qm", "base")
    git(repo, "add", "-A")  # revision 199 is the new one
    args = ("check", "--checks", "linear,apply")
    pa_python = pinned_venv(PA_PINS)
    ours_cold = process(repo, *args)
    ours_runs: list[float] = []
    durable: list[float] = []
    tmpfs: list[float] = []
    with open_server(cache_dir=base / "pa-cache") as server:
        for _ in range(runs):
            ours_runs.append(process(repo, *args))
            with local_database() as url:
                if url is not None:
                    durable.append(run_pytest_alembic(pa_python, repo, url))
            database = server.create_database()
            url = sqlalchemy_url(database.conninfo, statement_timeout_s=300, lock_timeout_s=300)
            tmpfs.append(run_pytest_alembic(pa_python, repo, url))
            server.drop_database(database)
    ours = statistics.median(ours_runs)
    fair = statistics.median(tmpfs)
    print(f"200 revisions, median of {runs} alternating runs: migration-guard linear+apply "
          f"(round trip new, drift), whole process: {ours:.2f} s cached, {ours_cold:.2f} s "
          "first run")
    if durable:
        theirs = statistics.median(durable)
        print(f"  pytest-alembic default tests on {LOCAL_URL} (fsync on): {theirs:.2f} s; "
              f"ratio {ours / theirs:.2f} cached, {ours_cold / theirs:.2f} first run "
              "(target <= 0.20)")
    else:
        print(f"  no PostgreSQL at {LOCAL_URL}: the comparison on a durable server is not run")
    print(f"  pytest-alembic default tests on a throwaway server like ours (tmpfs, fsync off): "
          f"{fair:.2f} s; ratio {ours / fair:.2f} cached, {ours_cold / fair:.2f} first run")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("parts", nargs="*", choices=("per", "top", "pa"))
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    if args.runs < 9:
        parser.error("--runs: at least 9")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(base / "cache")
        only = args.parts
        if not only or "per" in only:
            for kind in ("sql", "alembic"):
                per_migration(kind, base, args.runs)
        if not only or "top" in only:
            for kind in ("sql", "alembic"):
                one_on_top(kind, base, args.runs)
        if not only or "pa" in only:
            versus_pytest_alembic(base, args.runs)


if __name__ == "__main__":
    main()
