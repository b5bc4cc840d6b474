"""Benchmark of the throwaway PostgreSQL and the SQL engine; prints figures, asserts nothing.

Run: ``python bench/bench_db.py``. Targets (PERFORMANCE.md): start+stop <= 0.15 s with a
cached cluster, <= 0.5 s cold; <= 0.6 ms per SQL file applied.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from migration_guard.db.execute import Session, apply_sql
from migration_guard.db.provider import open_server


def start_stop(cache_dir: Path) -> float:
    started = time.perf_counter()
    with open_server(cache_dir=cache_dir):
        pass
    return time.perf_counter() - started


def bench_start_stop() -> None:
    cold = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as fresh:
            cold.append(start_stop(Path(fresh)))
    with tempfile.TemporaryDirectory() as cache:
        start_stop(Path(cache))
        cached = [start_stop(Path(cache)) for _ in range(10)]
    print(f"start+stop cold (initdb):  median {statistics.median(cold) * 1000:6.1f} ms "
          f"(target <= 500)")
    print(f"start+stop cached cluster: median {statistics.median(cached) * 1000:6.1f} ms "
          f"(target <= 150), min {min(cached) * 1000:.1f}")


def migration(index: int) -> str:
    return f"-- migration {index}\nCREATE TABLE t{index} (id bigint, name text NOT NULL);\n"


def raw_floor(server: object, files: list[str]) -> float:
    """The same files sent by bare psycopg, one transaction each: the DDL floor."""
    database = server.create_database()  # type: ignore[attr-defined]
    with Session(database.conninfo) as session:
        started = time.perf_counter()
        for text in files:
            session.conn.execute(f"BEGIN;{text}COMMIT".encode())
        return time.perf_counter() - started


def bench_apply() -> None:
    with tempfile.TemporaryDirectory() as cache, open_server(cache_dir=Path(cache)) as server:
        for count in (50, 200, 1000):
            files = [migration(i) for i in range(count)]
            database = server.create_database()
            with Session(database.conninfo) as session:
                started = time.perf_counter()
                for index, text in enumerate(files):
                    assert apply_sql(session, text, path=f"{index}.sql") == []
                elapsed = time.perf_counter() - started
            floor = raw_floor(server, files)
            print(f"apply {count:5d} files: {elapsed * 1000:7.1f} ms, "
                  f"{elapsed / count * 1000:.3f} ms per file (target <= 0.6); bare psycopg "
                  f"{floor / count * 1000:.3f} ms per file, ratio {elapsed / floor:.2f}")


if __name__ == "__main__":
    bench_start_stop()
    bench_apply()
