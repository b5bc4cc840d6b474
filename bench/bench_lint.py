"""Benchmark: migration-guard's SQL lint against squawk on the same files.

Prints figures (not a test). Generates 1,000 small migration files and one
1,000-statement file in a temp dir, then times whole processes, alternating
``migration-guard lint FILE...`` and squawk (pinned, installed by the benchmark into a
cached venv), and prints medians and ratios to squawk. A run of either that exits with
anything but 0 or 1 (findings) stops the benchmark. The package is byte-compiled first and
the runs may write bytecode, as an installed package's would (under
PYTHONDONTWRITEBYTECODE an editable checkout would recompile every module on every run).

    python bench/bench_lint.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peers import PeerFailed, pinned_venv  # bench/ is on sys.path: run as a script

SQUAWK_PINS = ("squawk-cli==2.70.0",)

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


def _time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise PeerFailed(f"`{' '.join(command[:3])} ...` exited {result.returncode}",
                         result.stdout + result.stderr)
    return elapsed


def _compare(label: str, commands: dict[str, list[str]], runs: int,
             env: dict[str, str]) -> None:
    """Alternate the commands ``runs`` times; print each median and its ratio to squawk's."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_time(command, env))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    squawk = medians.get("squawk")
    for name, ms in medians.items():
        ratio = f"   ratio {ms / squawk:5.2f}x" if squawk and name != "squawk" else ""
        print(f"{label:<26} {name:<22} {ms:8.1f} ms{ratio}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if args.runs < 9:
        parser.error("--runs: at least 9")
    squawk = str(pinned_venv(SQUAWK_PINS).with_name("squawk"))
    package = Path(__file__).resolve().parent.parent / "migration_guard"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cli = [str(Path(sys.executable).with_name("migration-guard")), "lint"]
    os.chdir(package.parent)
    with tempfile.TemporaryDirectory() as tmp:
        files, big = _generate(Path(tmp))
        print(f"median of {args.runs} alternating whole-process runs; squawk: {squawk}")
        _compare("floor", {"python -c pass": [sys.executable, "-c", "pass"]}, args.runs, env)
        for label, names in (("1,000 small files", files), ("one 1,000-statement file", [big]),
                             ("one small file", files[:1])):
            commands = {"migration-guard lint": cli + names, "squawk": [squawk, *names]}
            _compare(label, commands, args.runs, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
