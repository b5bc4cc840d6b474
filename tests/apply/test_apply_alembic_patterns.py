"""Alembic projects as people write them: env.py variants, configure() options honoured by
drift, irreversible downgrades, and a revision that never returns."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import Repo, Result
from layouts import ENV_PY

from apply.projects import alembic_base, revision, stage_revision
from migration_guard.apply.alembic_run import handover
from migration_guard.db import tempdirs
from migration_guard.db.local import RUN_PREFIX, default_run_parent

DRIFT = "projects:\n  - alembic_ini: alembic.ini\n    drift: true\n    trace: off\n"
HINT = ('  hint: generate a migration for it: alembic revision --autogenerate -m "<describe '
        'the change>"')

ENV_SETS_MAIN_OPTION = ENV_PY.replace(
    "from alembic import context\n", "import os\n\nfrom alembic import context\n").replace(
    "config = context.config\n",
    'config = context.config\nconfig.set_main_option("sqlalchemy.url", os.environ["APP_DB"])\n')

ASYNC_ENV_PY = """import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

from app.models import Base

config = context.config
target_metadata = Base.metadata


def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations():
    connectable = async_engine_from_config(config.get_section(config.config_ini_section),
                                           prefix="sqlalchemy.", poolclass=pool.NullPool)
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


asyncio.run(run_async_migrations())
"""

DRIVER_CHECK = ('assert op.get_bind().dialect.driver == {driver!r}, '
                'op.get_bind().dialect.driver')



def shown(result: Any) -> list[str]:
    """The output without the note naming the server, which depends on the machine."""
    return [line for line in result.lines if ": note: server: " not in line]


def test_env_py_setting_the_url_from_the_environment_applies(apply_repo: Repo) -> None:
    """``config.set_main_option("sqlalchemy.url", os.environ[...])``: the URL handed over
    survives configparser's interpolation (it holds no ``%``)."""
    alembic_base(apply_repo, config="projects:\n  - alembic_ini: alembic.ini\n    trace: off\n"
                 "    database_url_env: APP_DB\n", env_py=ENV_SETS_MAIN_OPTION)
    stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))')
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out
    failing = stage_revision(apply_repo, 'op.execute("select * from nowhere")')
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert shown(result)[1] == (
        f'{failing}:12: MG201 upgrade failed: relation "nowhere" does not exist '
        "[SQLSTATE 42P01]; statement: select * from nowhere")


def test_env_py_url_keeps_the_statement_timeout(apply_repo: Repo) -> None:
    """The session bounds reach the server without being in the URL."""
    alembic_base(apply_repo, config="projects:\n  - alembic_ini: alembic.ini\n    trace: off\n"
                 "    database_url_env: APP_DB\ndatabase:\n  statement_timeout: 1\n",
                 env_py=ENV_SETS_MAIN_OPTION)
    path = stage_revision(apply_repo, 'op.execute("select pg_sleep(5)")')
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert shown(result)[1] == (
        f"{path}:12: MG202 upgrade failed: statement hit statement_timeout: "
        "select pg_sleep(5)")


def _async_project(repo: Repo, driver: str) -> str:
    alembic_base(repo, env_py=ASYNC_ENV_PY)
    repo.write("alembic.ini", repo.path.joinpath("alembic.ini").read_text().replace(
        "sqlalchemy.url = postgresql://localhost/app",
        f"sqlalchemy.url = postgresql+{driver}://localhost/app"))
    repo.commit(f"on {driver}")
    return stage_revision(repo, DRIVER_CHECK.format(driver=driver) + "; "
                          'op.add_column("users", sa.Column("age", sa.Integer))')


def test_async_env_py_on_asyncpg_gets_asyncpg(apply_repo: Repo) -> None:
    _async_project(apply_repo, "asyncpg")
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out
    path = stage_revision(apply_repo, 'op.execute("select * from nowhere")')
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert shown(result)[1].startswith(f"{path}:12: MG201 upgrade failed: ")
    assert 'relation "nowhere" does not exist' in shown(result)[1]


def test_async_env_py_on_psycopg_applies(apply_repo: Repo) -> None:
    _async_project(apply_repo, "psycopg")
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out


def test_asyncpg_project_without_asyncpg_installed_exits_2(apply_repo: Repo,
                                                           tmp_path: Path) -> None:
    _async_project(apply_repo, "asyncpg")
    hidden = tmp_path / "no-asyncpg"
    hidden.mkdir()
    # None in sys.modules: Python's own way of saying "this module cannot be imported".
    (hidden / "sitecustomize.py").write_text("import sys\n\nsys.modules['asyncpg'] = None\n")
    env = dict(apply_repo.env, PYTHONPATH=os.pathsep.join(
        [str(hidden), *filter(None, [apply_repo.env.get("PYTHONPATH")])]))
    result = apply_repo.mg("apply", env=env)
    assert result.code == 2, result.out + result.err
    assert ("error: project migrations/versions runs on the asyncpg driver "
            "(postgresql+asyncpg), which is not installed") in result.err


def test_drift_without_target_metadata_exits_2(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config=DRIFT, env_py=ENV_PY.replace(
        "target_metadata = Base.metadata", "target_metadata = None"))
    stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))')
    result = apply_repo.mg("apply")
    assert result.code == 2, result.out + result.err
    assert ("error: drift of migrations/versions: nothing to compare against: "
            "migrations/env.py passes no target_metadata to context.configure()") in result.err


MODELS_WITH_DEFAULT = """from sqlalchemy import Integer, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100), server_default=text("'anon'"))
"""


def _default_project(repo: Repo, configure: str) -> None:
    """Models that give users.name a server default the migrations never set."""
    alembic_base(repo, config=DRIFT, env_py=ENV_PY.replace(
        "context.configure(connection=connection, target_metadata=target_metadata)",
        f"context.configure(connection=connection, target_metadata=target_metadata{configure})"))
    repo.write("app/models.py", MODELS_WITH_DEFAULT + "    age: Mapped[int | None] = "
               "mapped_column(Integer)\n")
    stage_revision(repo, 'op.add_column("users", sa.Column("age", sa.Integer))',
                   'op.drop_column("users", "age")')


def test_server_default_difference_is_no_drift_with_compare_server_default_off(
        apply_repo: Repo) -> None:
    _default_project(apply_repo, ", compare_server_default=False")
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out


def test_server_default_difference_is_drift_with_compare_server_default_on(
        apply_repo: Repo) -> None:
    _default_project(apply_repo, ", compare_server_default=True")
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert shown(result)[1:] == [
        "migrations/env.py: MG206 drift: column 'users.name' default is 'anon' in the models "
        "but None in the migrated database", HINT, "1 finding (apply over 1 project)"]


def test_type_difference_is_no_drift_with_compare_type_off(apply_repo: Repo) -> None:
    env_py = ENV_PY.replace(
        "context.configure(connection=connection, target_metadata=target_metadata)",
        "context.configure(connection=connection, target_metadata=target_metadata, "
        "compare_type=False)")
    alembic_base(apply_repo, config=DRIFT, env_py=env_py)
    apply_repo.write("app/models.py", MODELS_WITH_DEFAULT.replace(
        'String(100), server_default=text("\'anon\'")', "String(200)"))
    stage_revision(apply_repo, 'op.create_index("users_name", "users", ["name"])',
                   'op.drop_index("users_name")')
    apply_repo.write("app/models.py", apply_repo.path.joinpath("app/models.py").read_text()
                     + '    __table_args__ = (Index("users_name", "name"),)\n')
    apply_repo.write("app/models.py", apply_repo.path.joinpath("app/models.py").read_text()
                     .replace("from sqlalchemy import ", "from sqlalchemy import Index, "))
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out
    apply_repo.write("migrations/env.py", ENV_PY)
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert shown(result)[1] == (
        "migrations/env.py: MG206 drift: column 'users.name' type is VARCHAR(200) in the "
        "models but VARCHAR(100) in the migrated database")


INCLUDE_OBJECT = """

def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name == "legacy")
"""


def test_include_object_excludes_a_table_from_drift(apply_repo: Repo) -> None:
    env_py = ENV_PY.replace("\n\ndef run_migrations_offline", INCLUDE_OBJECT +
                            "\n\ndef run_migrations_offline").replace(
        "context.configure(connection=connection, target_metadata=target_metadata)",
        "context.configure(connection=connection, target_metadata=target_metadata, "
        "include_object=include_object)")
    alembic_base(apply_repo, config=DRIFT, env_py=env_py)
    apply_repo.write("app/models.py", MODELS_WITH_DEFAULT.replace(
        ', server_default=text("\'anon\'")', ""))
    stage_revision(apply_repo, 'op.create_table("legacy", sa.Column("id", sa.Integer))',
                   'op.drop_table("legacy")')
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out
    # Without the hook, the same table is drift.
    apply_repo.write("migrations/env.py", env_py.replace(
        ", include_object=include_object", ""))
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert shown(result)[1:] == [
        "migrations/env.py: MG206 drift: table 'legacy' is in the migrated database but not "
        "in the models", HINT, "1 finding (apply over 1 project)"]


def test_not_implemented_downgrade_ends_the_round_trip_with_a_note(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config="projects:\n  - alembic_ini: alembic.ini\n    trace: off\n"
                 "    roundtrip: new\n")
    path = stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))',
                          "raise NotImplementedError")
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out
    assert shown(result)[1] == (f"{path}: note: downgrade raises NotImplementedError: round "
                               "trip ends at this revision")


def test_not_implemented_downgrade_in_the_whole_chain(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config="projects:\n  - alembic_ini: alembic.ini\n    trace: off\n"
                 "    roundtrip: all\n")
    path = stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))',
                          "raise NotImplementedError")
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out
    assert shown(result)[1] == (f"{path}: note: downgrade raises NotImplementedError: round "
                               "trip ends at this revision")


def test_other_downgrade_exception_is_still_mg204(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config="projects:\n  - alembic_ini: alembic.ini\n    trace: off\n"
                 "    roundtrip: new\n")
    path = stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))',
                          'raise RuntimeError("cannot go back")')
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert shown(result)[1] == (f"{path}:16: MG204 downgrade of 0003 failed: RuntimeError: "
                               "cannot go back")


LEAKY_BASE = revision("0002", "0001", 'op.execute("CREATE SCHEMA IF NOT EXISTS extra"); '
                      'op.create_table("users", sa.Column("id", sa.Integer))',
                      'op.drop_table("users")')


def test_roundtrip_downgrades_runs_the_chain_without_comparing_to_empty(
        apply_repo: Repo) -> None:
    """``roundtrip: downgrades`` checks that every downgrade runs; ``all`` also that the
    chain back to base restores the empty schema (0002 leaves its table behind)."""
    alembic_base(apply_repo, config="projects:\n  - alembic_ini: alembic.ini\n    trace: off\n"
                 "    roundtrip: downgrades\n")
    apply_repo.write("migrations/versions/0002_users.py", LEAKY_BASE)
    apply_repo.commit("a downgrade that keeps its table")
    stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))',
                   'op.drop_column("users", "age")')
    result = apply_repo.mg("apply")
    assert (result.code, result.err) == (0, ""), result.out
    apply_repo.write(".migration-guard.yaml", "projects:\n  - alembic_ini: alembic.ini\n"
                     "    trace: off\n    roundtrip: all\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert shown(result)[1] == (
        "migrations/versions: MG205 the downgrade to base does not restore the schema: schema "
        "extra () is in the schema after the downgrade to base but not in the schema before "
        "the upgrade")
    stage_revision(apply_repo, 'op.add_column("users", sa.Column("age", sa.Integer))',
                   'op.drop_column("users", "nope")')
    apply_repo.write(".migration-guard.yaml", "projects:\n  - alembic_ini: alembic.ini\n"
                     "    trace: off\n    roundtrip: downgrades\n")
    apply_repo.add()
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert shown(result)[1].startswith(
        "migrations/versions/0003_change.py:16: MG204 downgrade to base failed: ")


def test_revision_that_never_returns_ends_at_the_run_limit(apply_repo: Repo) -> None:
    alembic_base(apply_repo, config="database:\n  run_timeout: 15\n"
                 "projects:\n  - alembic_ini: alembic.ini\n    trace: off\n")
    path = stage_revision(apply_repo, "import time; time.sleep(3600)")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "migration_guard", "apply"],
                            cwd=apply_repo.path, env=apply_repo.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    run_dirs: set[Path] = set()
    while proc.poll() is None:
        run_dirs |= _run_dirs_of(proc.pid)
        time.sleep(0.2)
    out, err = proc.communicate()
    elapsed = time.monotonic() - started
    result = Result(proc.returncode, out.decode(), err.decode())
    assert result.code == 1, result.out + result.err
    assert shown(result)[1] == (f"{path}:12: MG208 not applied: the whole run exceeded its "
                               "limit of 15 s")
    assert elapsed < 15 + 10, elapsed
    assert run_dirs, "the run's server directory was never seen"
    assert not [d for d in run_dirs if d.exists()]
    assert not _postgres_serving(run_dirs)


def _run_dirs_of(pid: int) -> set[Path]:
    parent = default_run_parent()
    found: set[Path] = set()
    for path in parent.glob(RUN_PREFIX + "*"):
        owner = tempdirs.read_owner(path)
        if owner is not None and owner.pid == pid:
            found.add(path)
    return found


def _postgres_serving(run_dirs: set[Path]) -> list[str]:
    """Command lines of live postgres processes that name one of ``run_dirs`` (the
    background ``rm`` deleting a set-aside directory names it too, and is no server)."""
    live: list[str] = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        cmdline = b" ".join(argv).decode()
        if Path(argv[0].decode()).name == "postgres" and any(str(d) in cmdline
                                                            for d in run_dirs):
            live.append(cmdline)
    return live


def test_version_table_in_its_own_schema_is_no_drift(apply_repo: Repo) -> None:
    env_py = ENV_PY.replace("from sqlalchemy import engine_from_config, pool\n",
                            "from sqlalchemy import engine_from_config, pool, text\n").replace(
        "        context.configure(connection=connection, target_metadata=target_metadata)\n",
        '        connection.execute(text("CREATE SCHEMA IF NOT EXISTS meta"))\n'
        "        connection.commit()\n"
        "        context.configure(connection=connection, target_metadata=target_metadata,\n"
        '                          version_table_schema="meta", version_table="revs")\n')
    alembic_base(apply_repo, config=DRIFT, env_py=env_py)
    apply_repo.write("app/models.py", MODELS_WITH_DEFAULT.replace(
        ', server_default=text("\'anon\'")', ""))
    stage_revision(apply_repo, 'op.create_index("users_name", "users", ["name"])',
                   'op.drop_index("users_name")')
    result = apply_repo.mg("apply")
    assert result.code == 1, result.out + result.err
    assert shown(result)[1:] == [
        "migrations/env.py: MG206 drift: index 'users_name' on 'users' is in the migrated "
        "database but not in the models", HINT, "1 finding (apply over 1 project)"]


def test_handed_over_url_holds_no_percent_sign() -> None:
    """A password that needs quoting travels in PGPASSWORD, the bounds in PGOPTIONS."""
    target = handover("postgresql://app:p%25w%20d@127.0.0.1:5432/mg_run?sslmode=disable",
                      statement_timeout_s=1.5, lock_timeout_s=2, driver="asyncpg")
    assert target.url == "postgresql+asyncpg://app@127.0.0.1:5432/mg_run"
    assert dict(target.env) == {
        "PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "app", "PGPASSWORD": "p%w d",
        "PGSSLMODE": "disable",
        "PGOPTIONS": "-c statement_timeout=1500 -c lock_timeout=2000"}


def test_alembic_child_dies_with_a_killed_run(apply_repo: Repo, tmp_path: Path) -> None:
    """A SIGKILLed run (a CI job cancelled) leaves no process running the revision."""
    alembic_base(apply_repo)
    started = tmp_path / "revision-started"
    stage_revision(apply_repo, "import os, time; open(os.environ['REVISION_STARTED'], 'w')"
                   ".close(); time.sleep(3600)")
    proc = subprocess.Popen([sys.executable, "-m", "migration_guard", "apply"],
                            cwd=apply_repo.path,
                            env=dict(apply_repo.env, REVISION_STARTED=str(started)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    children = _forks_of(proc.pid)
    proc.kill()
    proc.wait()
    assert children, "no child process running alembic was seen"
    gone_by = time.monotonic() + 10
    while time.monotonic() < gone_by and any(_alive(pid) for pid in children):
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)]


def _forks_of(pid: int) -> list[int]:
    """Children of ``pid`` running the same command line (forks, not servers)."""
    try:
        own = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    found: list[int] = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in status and cmdline == own:
            found.append(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    """Running, not a zombie left for a reaper."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state
