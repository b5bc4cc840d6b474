"""Benchmark of the throwaway PostgreSQL and the SQL engine; prints figures, asserts nothing.

Run: ``python bench/bench_db.py``. Targets: start+stop <= 0.15 s with a cached cluster,
<= 0.5 s cold; <= 0.6 ms per SQL file applied. Medians of 9 runs; applying SQL alternates
with bare psycopg (the floor) sending the same files.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from migration_guard.db.execute import Session, apply_sql
from migration_guard.db.provider import open_server

RUNS = 9


def start_stop(cache_dir: Path) -> float:
    started = time.perf_counter()
    with open_server(cache_dir=cache_dir):
        pass
    return time.perf_counter() - started


def bench_start_stop() -> None:
    cold = []
    for _ in range(RUNS):
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
    try:
        with Session(database.conninfo) as session:
            started = time.perf_counter()
            for text in files:
                session.conn.execute(f"BEGIN;{text}COMMIT".encode())
            return time.perf_counter() - started
    finally:
        server.drop_database(database)  # type: ignore[attr-defined]


def ours(server: object, files: list[str]) -> float:
    """The same files through the engine's ``apply_sql``; each must apply cleanly."""
    database = server.create_database()  # type: ignore[attr-defined]
    try:
        with Session(database.conninfo) as session:
            started = time.perf_counter()
            for index, text in enumerate(files):
                problems = apply_sql(session, text, path=f"{index}.sql")
                if problems:
                    raise SystemExit(f"benchmark stopped: {index}.sql did not apply: {problems}")
            return time.perf_counter() - started
    finally:
        server.drop_database(database)  # type: ignore[attr-defined]


def bench_apply() -> None:
    with tempfile.TemporaryDirectory() as cache, open_server(cache_dir=Path(cache)) as server:
        for count in (50, 200, 1000):
            files = [migration(i) for i in range(count)]
            samples: dict[str, list[float]] = {"ours": [], "floor": []}
            for _ in range(RUNS):  # alternating, so that machine drift hits both alike
                samples["ours"].append(ours(server, files))
                samples["floor"].append(raw_floor(server, files))
            elapsed, floor = (statistics.median(samples[k]) for k in ("ours", "floor"))
            print(f"apply {count:5d} files: {elapsed * 1000:7.1f} ms, "
                  f"{elapsed / count * 1000:.3f} ms per file (target <= 0.6); bare psycopg "
                  f"{floor / count * 1000:.3f} ms per file, ratio {elapsed / floor:.2f}")


if __name__ == "__main__":
    bench_start_stop()
    bench_apply()
