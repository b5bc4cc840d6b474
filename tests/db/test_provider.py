"""The local throwaway server: start/stop, isolation, reaping after Ctrl-C, SIGTERM, SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from migration_guard.db import tempdirs
from migration_guard.db.base import Server
from migration_guard.db.local import LocalServer
from migration_guard.db.provider import open_server
from migration_guard.errors import GuardError

REPO = Path(__file__).resolve().parents[2]
HOLD_SERVER = """
import sys, time
from pathlib import Path
from migration_guard.db.provider import open_server
with open_server(cache_dir=Path(sys.argv[1])) as server:
    print(server.run_dir, server.process.pid, flush=True)
    time.sleep(60)
"""


def gone(pid: int) -> bool:
    state = tempdirs.process_stat_state(pid)
    return state is None or state == "Z"


def wait_until(condition: object, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


HOLD_BACKGROUND_SERVER = """
import sys, time
from pathlib import Path
from migration_guard.db.provider import open_server
with open_server(cache_dir=Path(sys.argv[1]), background=True) as server:
    server.create_database()  # waits for the boot
    print(server.run_dir, server.process.pid, flush=True)
    time.sleep(60)
"""


def hold_server(cache_dir: Path, script: str = HOLD_SERVER
                ) -> tuple[subprocess.Popen[str], Path, int]:
    child = subprocess.Popen([sys.executable, "-c", script, str(cache_dir)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert child.stdout is not None
    run_dir, pid = child.stdout.readline().split()
    return child, Path(run_dir), int(pid)


def test_server_answers_and_leaves_nothing_after_stop(cache_dir: Path) -> None:
    with open_server(cache_dir=cache_dir) as server:
        assert isinstance(server, LocalServer)
        run_dir, process = server.run_dir, server.process
        assert run_dir is not None and process is not None
        database = server.create_database()
        with psycopg.connect(database.conninfo) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (database.name,)
        assert not (run_dir / "data" / "postmaster.opts").is_symlink()
    assert not run_dir.exists()
    assert process.poll() is not None


def test_server_has_no_tcp_listener_and_durability_off(server: Server) -> None:
    database = server.create_database()
    with psycopg.connect(database.conninfo) as conn:
        settings = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('listen_addresses', 'fsync', 'synchronous_commit', 'full_page_writes') "
            "ORDER BY name").fetchall()
    assert settings == [("fsync", "off"), ("full_page_writes", "off"),
                        ("listen_addresses", ""), ("synchronous_commit", "off")]


def test_two_servers_at_once_do_not_collide(cache_dir: Path, server: Server) -> None:
    with open_server(cache_dir=cache_dir) as second:
        assert isinstance(server, LocalServer) and isinstance(second, LocalServer)
        assert server.run_dir != second.run_dir
        first_db, second_db = server.create_database(), second.create_database()
        with psycopg.connect(first_db.conninfo) as a, psycopg.connect(second_db.conninfo) as b:
            a.execute("CREATE TABLE only_in_first ()")
            a.commit()
            assert b.execute("SELECT to_regclass('only_in_first')").fetchone() == (None,)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_mid_run_leaves_no_server_and_no_dir(cache_dir: Path, sig: int) -> None:
    child, run_dir, pid = hold_server(cache_dir)
    child.send_signal(sig)
    child.wait(20)
    assert gone(pid)
    assert not run_dir.exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_server_booted_in_the_background_goes_with_its_run(cache_dir: Path, sig: int) -> None:
    """The thread that boots it holds the server's parent-death signal: the server goes
    when the run is stopped, and when it is killed."""
    child, run_dir, pid = hold_server(cache_dir, HOLD_BACKGROUND_SERVER)
    child.send_signal(sig)
    child.wait(20)
    assert wait_until(lambda: gone(pid)), "the server outlived its run"
    if sig == signal.SIGTERM:
        assert not run_dir.exists()


def test_background_boot_failure_is_raised_at_first_use(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(GuardError) as raised, \
            open_server(cache_dir=blocker / "cache", background=True) as server:
        server.create_database()
    assert raised.value.message.startswith("cannot start the temporary PostgreSQL server from ")
    assert raised.value.message.endswith(f"NotADirectoryError: [Errno 20] Not a directory: "
                                         f"'{blocker / 'cache'}'")


def test_sigkilled_run_loses_its_server_and_the_next_run_reaps_its_dir(cache_dir: Path) -> None:
    child, run_dir, pid = hold_server(cache_dir)
    child.kill()
    child.wait(10)
    assert wait_until(lambda: gone(pid)), "parent-death signal did not stop the server"
    assert run_dir.exists()
    with open_server(cache_dir=cache_dir):
        assert not run_dir.exists()


def test_reaper_ignores_unmarked_and_live_dirs(tmp_path: Path) -> None:
    (tmp_path / "mg-unmarked").mkdir()
    live = tempdirs.make_owned_dir(tmp_path, "mg-", tempdirs.current_owner("t"))
    dead = tempdirs.make_owned_dir(tmp_path, "mg-", tempdirs.Owner(os.getpid(), "0", "t"))
    assert tempdirs.reap_stale_dirs(tmp_path, "mg-") == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["mg-unmarked", live.name])


def test_reaper_does_not_kill_a_process_that_is_not_that_postmaster(tmp_path: Path) -> None:
    stale = tempdirs.make_owned_dir(tmp_path, "mg-", tempdirs.Owner(1, "0", "t"))
    (stale / "data").mkdir()
    (stale / "data" / "postmaster.pid").write_text(f"{os.getpid()}\n{stale / 'data'}\n")
    assert tempdirs.postmaster_pid(stale / "data") is None
    assert tempdirs.reap_stale_dirs(tmp_path, "mg-") == [stale]


def test_snapshot_is_reused_by_the_next_run(tmp_path: Path) -> None:
    with open_server(cache_dir=tmp_path, snapshot_key="base-v1") as first:
        assert first.snapshot_template is None
        base = first.create_database()
        with psycopg.connect(base.conninfo, autocommit=True) as conn:
            conn.execute("CREATE TABLE from_base (id int)")
        assert first.save_snapshot(base) == "mg_snapshot"
        copy = first.create_database(template="mg_snapshot")  # the server restarted
        with psycopg.connect(copy.conninfo) as conn:
            found = conn.execute("SELECT to_regclass('from_base')::text").fetchone()
            assert found == ("from_base",)
    with open_server(cache_dir=tmp_path, snapshot_key="base-v1") as second:
        assert second.snapshot_template == "mg_snapshot"
        clone = second.create_database(template=second.snapshot_template)
        with psycopg.connect(clone.conninfo) as conn:
            assert conn.execute("SELECT count(*) FROM from_base").fetchone() == (0,)
    with open_server(cache_dir=tmp_path, snapshot_key="base-v2") as third:
        assert third.snapshot_template is None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("tmp-")]
