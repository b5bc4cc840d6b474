"""Benchmark: ``migration-guard lint FILE...`` (the user-facing command) against squawk.

Prints figures (not a test). Generates migration files in a temporary repository (with a
``.migration-guard.yaml``, as a project has), then times whole processes, alternating
``python -c pass`` (the interpreter's floor), ``migration-guard lint`` and squawk
(``squawk-cli`` from PyPI, a test dependency) on: one file, 100 files, 451 small files,
1,000 mixed files and one 1,000-statement file. Prints medians, the ratio to squawk and,
for one file, the distance to the floor. The package is byte-compiled first and the runs
may write bytecode, as an installed package's would.

    python bench/bench_lint.py [--runs N]
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

#: One- and two-statement migrations, safe and unsafe, as teams write them.
_SMALL = [
    "CREATE TABLE IF NOT EXISTS t{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\n",
    "SET lock_timeout = '2s';\nALTER TABLE t{i} ADD COLUMN note text;\n",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS t{i}_name_idx ON t{i} (name);\n",
    "ALTER TABLE t{i} ADD CONSTRAINT t{i}_fk FOREIGN KEY (owner_id) REFERENCES users (id) "
    "NOT VALID;\nALTER TABLE t{i} VALIDATE CONSTRAINT t{i}_fk;\n",
    "-- backfill\nUPDATE t{i} SET note = 'x' WHERE id < 1000;\n",
    "CREATE INDEX t{i}_owner_idx ON t{i} (owner_id);\n",
]
#: A larger migration: a table with its indexes, constraints, comments and grants.
_LARGE = (
    "SET lock_timeout = '2s';\nSET statement_timeout = '5s';\n"
    "CREATE TABLE app.orders_{i} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  user_id bigint NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,\n"
    "  status varchar(20) NOT NULL DEFAULT 'new',\n  total numeric(12, 2),\n"
    "  created_at timestamptz NOT NULL DEFAULT now(),\n  updated_at timestamp\n);\n"
    "CREATE INDEX orders_{i}_user_idx ON app.orders_{i} (user_id);\n"
    "ALTER TABLE app.orders_{i} ENABLE ROW LEVEL SECURITY;\n"
    "CREATE POLICY orders_{i}_owner ON app.orders_{i} USING (user_id = 1);\n"
    "COMMENT ON TABLE app.orders_{i} IS 'orders';\n"
    "ALTER TABLE app.legacy_{i} ADD COLUMN region text;\n"
    "UPDATE app.legacy_{i} SET region = 'eu' WHERE region IS NULL;\n"
    "GRANT SELECT ON app.orders_{i} TO reporting;\n"
)
CONFIG = "lint:\n  pg_version: 16\n"


def _write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return name


def _generate(root: Path) -> dict[str, list[str]]:
    (root / ".git").mkdir()  # the repository root lint FILE... looks for its config
    (root / ".migration-guard.yaml").write_text(CONFIG, encoding="utf-8")
    small = [_write(root, f"V{i:04d}__small.sql", _SMALL[i % len(_SMALL)].format(i=i))
             for i in range(1000)]
    mixed = [_write(root, f"V{i:04d}__mixed.sql",
                    _LARGE.format(i=i) if i % 4 == 0 else _SMALL[i % len(_SMALL)].format(i=i) * 3)
             for i in range(1000)]
    big = _write(root, "big.sql", "".join(_SMALL[i % len(_SMALL)].format(i=i)
                                          for i in range(1000)))
    return {"1 file": mixed[:1], "100 files": mixed[:100], "451 small files": small[:451],
            "1,000 mixed files": mixed, "one 1,000-statement file": [big]}


def _time(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False, env=env)
    return time.perf_counter() - start


def _compare(label: str, commands: dict[str, list[str]], runs: int, cwd: Path,
             env: dict[str, str]) -> dict[str, float]:
    """Alternate the commands ``runs`` times; print each median and its ratio to squawk's."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_time(command, cwd, env))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    squawk = medians["squawk"]
    for name, ms in medians.items():
        ratio = f"   {ms / squawk:5.2f}x squawk" if name != "squawk" else ""
        print(f"{label:<26} {name:<22} {ms:8.1f} ms{ratio}")
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    squawk = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which(
        "squawk")
    if squawk is None:
        print("squawk not found: pip install squawk-cli (a test dependency)", file=sys.stderr)
        return 2
    package = Path(__file__).resolve().parent.parent / "migration_guard"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cli = [str(Path(sys.executable).with_name("migration-guard")), "lint"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cases = _generate(root)
        print(f"median of {args.runs} alternating whole-process runs; squawk: {squawk}; "
              f"{len(os.sched_getaffinity(0))} cores")
        for label, names in cases.items():
            commands = {"migration-guard lint": cli + names, "squawk": [squawk, *names]}
            if label == "1 file":
                commands["python -c pass"] = [sys.executable, "-c", "pass"]
            medians = _compare(label, commands, args.runs, root, env)
            if label == "1 file":
                over = medians["migration-guard lint"] - medians["python -c pass"]
                print(f"{label:<26} {'over the floor':<22} {over:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
