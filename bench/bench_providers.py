"""Benchmark of each PostgreSQL provider found here and of the Supabase preset; prints
figures, asserts nothing.

Run: ``python bench/bench_providers.py``. Per provider (machine, wheel, embedded): start+stop
cold (initdb into an empty cache) and cached (the cluster archive reused), medians. The
preset: a cached ``apply`` of a Supabase-shaped repository with ``postgres.preset: auto``
against the same repository with ``preset: none`` (target: at most 50 ms more).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from migration_guard.db.base import Wants
from migration_guard.db.binaries import installs, service_account
from migration_guard.db.local import LocalServer
from migration_guard.db.tempdirs import default_cache_dir

MIGRATION = """\
create extension if not exists "uuid-ossp";
create table public.notes (id uuid primary key default uuid_generate_v4(), body text);
"""


def start_stop(server: LocalServer) -> float:
    started = time.perf_counter()
    server.start()
    server.stop()
    return time.perf_counter() - started


def bench_provider_start_stop() -> None:
    run_as = service_account()
    for found in installs(default_cache_dir(), None):
        cold: list[float] = []
        for _ in range(3):
            with tempfile.TemporaryDirectory() as fresh:
                cold.append(start_stop(LocalServer(found, cache_dir=Path(fresh), run_as=run_as)))
        with tempfile.TemporaryDirectory() as cache:
            start_stop(LocalServer(found, cache_dir=Path(cache), run_as=run_as))
            cached = [start_stop(LocalServer(found, cache_dir=Path(cache), run_as=run_as))
                      for _ in range(7)]
        print(f"{found.kind:8} {found.path}: start+stop cold median "
              f"{statistics.median(cold) * 1000:6.1f} ms, cached median "
              f"{statistics.median(cached) * 1000:6.1f} ms (target <= 150)")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x",
                        "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"})


def supabase_repo(root: Path, preset: str) -> Path:
    repo = root / preset
    (repo / "supabase" / "migrations").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "supabase" / "config.toml").write_text("project_id = 'x'\n")
    (repo / ".migration-guard.yaml").write_text(f"postgres:\n  preset: {preset}\n")
    for index in range(20):
        (repo / "supabase" / "migrations" / f"2024010100{index:04d}_t{index}.sql").write_text(
            f"create table t{index} (id bigint primary key);\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    (repo / "supabase" / "migrations" / "20250101000000_notes.sql").write_text(MIGRATION)
    git(repo, "add", "-A")
    return repo


def timed_apply(repo: Path, cache: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "migration_guard", "apply"], cwd=repo, check=True,
                   capture_output=True, env={**os.environ, "XDG_CACHE_HOME": str(cache)})
    return time.perf_counter() - started


def bench_preset() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        figures = {}
        for preset in ("none", "auto"):
            repo = supabase_repo(root, preset)
            cache = root / f"cache-{preset}"
            timed_apply(repo, cache)  # builds the cluster and the "base applied" snapshot
            figures[preset] = statistics.median(timed_apply(repo, cache) for _ in range(7))
        extra = (figures["auto"] - figures["none"]) * 1000
        print(f"cached apply: preset none median {figures['none'] * 1000:6.1f} ms, preset auto "
              f"median {figures['auto'] * 1000:6.1f} ms: +{extra:.1f} ms (target <= 50)")


def bench_preset_in_process() -> None:
    """The preset's own per-run work in a cached run (its schemas are in the snapshot):
    the roles block the server's administrator runs, beside a bare ``SELECT 1``."""
    from migration_guard.db.provider import open_server
    from migration_guard.frameworks.supabase_preset import roles_sql

    with tempfile.TemporaryDirectory() as cache, open_server(cache_dir=Path(cache)) as server:
        server.run_admin_sql(roles_sql())
        roles, floor = [], []
        for _ in range(15):
            started = time.perf_counter()
            server.run_admin_sql(roles_sql())
            roles.append(time.perf_counter() - started)
            started = time.perf_counter()
            server.run_admin_sql("SELECT 1")
            floor.append(time.perf_counter() - started)
    print(f"preset roles block per run: median {statistics.median(roles) * 1000:.2f} ms "
          f"(SELECT 1: {statistics.median(floor) * 1000:.2f} ms; target for the preset <= 50)")


if __name__ == "__main__":
    print(f"providers in order (no major asked): "
          f"{[b.kind for b in installs(default_cache_dir(), Wants().major)]}")
    bench_provider_start_stop()
    bench_preset_in_process()
    bench_preset()
