"""Benchmark of the trace; prints figures, asserts nothing.

Run: ``python bench/bench_trace.py``. A SQL project whose base creates 20 tables; one new
migration of 1, 20 or 200 ``ALTER TABLE`` statements on them. Whole-process ``apply``
with ``trace: off`` and ``trace: new`` alternate (the machine's speed drifts), medians and
their ratio per size (target: at most 1.3x). Then the 20-statement migration with
``trace_rows: 100000``: the time to fill the tables and trace both passes, against the
same run without ``trace_rows``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLES = 20
REPEATS = 5


def git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "MIGRATION_GUARD", "GITHUB_"))}
    (home / ".gitconfig").write_text("[user]\n\tname = b\n\temail = b@example.com\n")
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", XDG_CACHE_HOME=str(home / "cache"),
               PYTHONPATH=str(ROOT))
    return env


def project(root: Path, statements: int, env: dict[str, str]) -> Path:
    repo = root / f"repo-{statements}"
    (repo / "db" / "migrations").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main", env=env)
    base = "".join(f"create table t{i} (id bigint primary key, name text, n int);\n"
                   for i in range(TABLES))
    (repo / "db" / "migrations" / "001_base.sql").write_text(base)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "base", env=env)
    new = "".join(f"alter table t{i % TABLES} add column c{i} int;\n" for i in range(statements))
    (repo / "db" / "migrations" / "002_new.sql").write_text(new)
    return repo


def configure(repo: Path, extra: str, env: dict[str, str]) -> None:
    (repo / ".migration-guard.yaml").write_text(
        "projects:\n  - framework: sql\n    migrations: db/migrations\n" + extra)
    git(repo, "add", "-A", env=env)


def timed_apply(repo: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "migration_guard", "apply"], cwd=repo, env=env,
                          capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode == 2:
        raise SystemExit(proc.stdout.decode() + proc.stderr.decode())
    return elapsed


def compare(repo: Path, env: dict[str, str]) -> tuple[float, float]:
    off: list[float] = []
    on: list[float] = []
    configure(repo, "    trace: off\n", env)
    timed_apply(repo, env)  # warm: the cached base state
    for _ in range(REPEATS):
        configure(repo, "    trace: off\n", env)
        off.append(timed_apply(repo, env))
        configure(repo, "    trace: new\n", env)
        on.append(timed_apply(repo, env))
    return statistics.median(off), statistics.median(on)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mg-bench-trace-") as tmp:
        root = Path(tmp)
        home = root / "home"
        home.mkdir()
        env = environment(home)
        print(f"apply, whole process, medians of {REPEATS} alternating runs")
        print("statements | trace off s | trace new s | ratio")
        for size in (1, 20, 200):
            repo = project(root, size, env)
            off, on = compare(repo, env)
            print(f"{size:>10} | {off:11.3f} | {on:11.3f} | {on / off:5.2f}x")
        repo = root / "repo-20"
        configure(repo, "    trace: new\n", env)
        plain = statistics.median(timed_apply(repo, env) for _ in range(3))
        configure(repo, "    trace: new\n    trace_rows: 100000\n", env)
        scaled = statistics.median(timed_apply(repo, env) for _ in range(3))
        print(f"20 statements, {TABLES} tables: trace {plain:.3f} s; with trace_rows 100000 "
              f"(fill {TABLES} x 100,000 rows, VACUUM ANALYZE, second traced pass) "
              f"{scaled:.3f} s ({scaled - plain:.3f} s more)")


if __name__ == "__main__":
    main()
