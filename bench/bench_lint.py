"""Benchmark: migration-guard's SQL lint against squawk on the same files.

Prints figures (not a test). Generates 1,000 small migration files and one
1,000-statement file in a temp dir, then times whole processes, alternating
migration-guard and squawk runs, and prints medians and ratios.

    /work/venv/bin/python bench/bench_lint.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_SMALL = [
    "CREATE TABLE IF NOT EXISTS t{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\n",
    "SET lock_timeout = '2s';\nALTER TABLE t{i} ADD COLUMN note text;\n",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS t{i}_name_idx ON t{i} (name);\n",
    "ALTER TABLE t{i} ADD CONSTRAINT t{i}_fk FOREIGN KEY (owner_id) REFERENCES users (id) "
    "NOT VALID;\nALTER TABLE t{i} VALIDATE CONSTRAINT t{i}_fk;\n",
    "-- backfill\nUPDATE t{i} SET note = 'x' WHERE id < 1000;\n",
]


def _generate(root: Path) -> tuple[list[str], str]:
    small_dir = root / "small"
    small_dir.mkdir()
    files: list[str] = []
    for i in range(1000):
        path = small_dir / f"V{i:04d}__change.sql"
        path.write_text(_SMALL[i % len(_SMALL)].format(i=i) * 2, encoding="utf-8")
        files.append(str(path))
    big = root / "big.sql"
    big.write_text("".join(_SMALL[i % len(_SMALL)].format(i=i) for i in range(1000)),
                   encoding="utf-8")
    return files, str(big)


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def _compare(label: str, ours: list[str], theirs: list[str] | None, runs: int) -> None:
    mine: list[float] = []
    other: list[float] = []
    for _ in range(runs):
        mine.append(_time(ours))
        if theirs is not None:
            other.append(_time(theirs))
    ours_ms = statistics.median(mine) * 1000
    if theirs is None:
        print(f"{label:<34} migration-guard {ours_ms:8.1f} ms")
        return
    theirs_ms = statistics.median(other) * 1000
    print(f"{label:<34} migration-guard {ours_ms:8.1f} ms   squawk {theirs_ms:8.1f} ms"
          f"   ratio {ours_ms / theirs_ms:5.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    squawk = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which(
        "squawk")
    env_python = [sys.executable, "-m", "migration_guard.lint"]
    os.chdir(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory() as tmp:
        files, big = _generate(Path(tmp))
        one = files[:1]
        squawk_cmd = [squawk] if squawk else None
        print(f"median of {args.runs} alternating whole-process runs; squawk: {squawk}")
        _compare("python -c pass", [sys.executable, "-c", "pass"], None, args.runs)
        _compare("1,000 small files", env_python + files,
                 squawk_cmd + files if squawk_cmd else None, args.runs)
        _compare("one 1,000-statement file", [*env_python, big],
                 [*squawk_cmd, big] if squawk_cmd else None, args.runs)
        _compare("one small file", env_python + one,
                 squawk_cmd + one if squawk_cmd else None, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
