"""Benchmark: ``migration-guard lint FILE...`` (the user-facing command) against squawk.

Prints figures (not a test). Generates migration files in a temporary repository (with a
``.migration-guard.yaml``, as a project has), then times whole processes on: one file, 100
files, 451 small files, 1,000 mixed files and one 1,000-statement file. Every process runs
from a cached venv holding a normal (non-editable, byte-compiled) install of this project and
pinned squawk, as pre-commit installs it for users (see ``peers.project_venv``): an editable
install's finder would import modules in every process of the venv and raise the floor.

For each case, every command once per round, each round starting one command further:
``migration-guard lint`` "cold" (``XDG_CACHE_HOME`` an empty directory each run: nothing
cached, the run writes its cache), "warm" (a cache filled by one untimed run beforehand: the
same run again, replayed whole, see migration_guard/commands/replay.py), "1 edited" (a warm
cache, with the case's last file replaced by a copy given a new comment before each run: the
run is not a replay, that file is linted anew and the others' results come from the
cache), squawk and, for one file, ``python -c pass`` (the interpreter's floor). Prints
medians of ``--runs`` (at least 9), the ratio to squawk, the distance to the floor for one file, and
the targets beside the figures. A run exiting with anything but 0 or 1 (findings) stops the
benchmark.

    python bench/bench_lint.py [--runs N]
"""

from __future__ import annotations

import argparse
import marshal
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from peers import project_venv, rotated, run_checked  # bench/ is on sys.path: run as a script

SQUAWK_PINS = ("squawk-cli==2.70.0",)
COLD, WARM = "migration-guard lint, cold", "migration-guard lint, warm"
EDITED = "migration-guard lint, 1 edited"
SQUAWK, FLOOR = "squawk", "python -c pass"
ONE_FILE = "1 file"
#: The targets: at most squawk's time from 100 files up; one file near the bare interpreter.
TARGET_RATIO = 1.0
TARGET_OVER_FLOOR_MS = 30.0

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
    return {ONE_FILE: mixed[:1], "100 files": mixed[:100], "451 small files": small[:451],
            "1,000 mixed files": mixed, "one 1,000-statement file": [big]}


@dataclass(frozen=True)
class Command:
    """One timed command: its argv, the environment of each run, the exit codes it may give."""

    argv: list[str]
    env: Callable[[], dict[str, str]]
    exits: tuple[int, ...] = (0, 1)
    before: Callable[[], None] = lambda: None


def _empty(directory: Path) -> Path:
    """``directory``, created empty: what a run finds when nothing was cached before it."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def _edit(original: Path, copy: Path) -> Callable[[], None]:
    """Write ``copy`` as ``original`` with a comment it never had before, once per call (a
    copy: the other commands read the original, unchanged)."""
    text = original.read_text(encoding="utf-8")
    edits = iter(range(1_000_000))

    def edit() -> None:
        copy.write_text(f"{text}-- edit {next(edits)}\n", encoding="utf-8")
    edit()
    return edit


def _commands(names: list[str], bin_dir: Path, caches: Path, env: dict[str, str], *,
              cwd: Path, floor: bool) -> dict[str, Command]:
    """The commands of one case; the warm caches are filled here by untimed runs."""
    lint = [str(bin_dir / "migration-guard"), "lint", *names]
    edited_copy = f"edited-{names[-1]}"
    lint_edited = [*lint[:-1], edited_copy]
    cold, warm, edited = caches / "cold", _empty(caches / "warm"), _empty(caches / "edited")
    commands = {
        COLD: Command(lint, lambda: {**env, "XDG_CACHE_HOME": str(_empty(cold))}),
        WARM: Command(lint, lambda: {**env, "XDG_CACHE_HOME": str(warm)}),
        EDITED: Command(lint_edited, lambda: {**env, "XDG_CACHE_HOME": str(edited)},
                        before=_edit(cwd / names[-1], cwd / edited_copy)),
        SQUAWK: Command([str(bin_dir / "squawk"), *names], lambda: env),
    }
    run_checked(lint_edited, cwd=cwd, env=commands[EDITED].env(), expect=(0, 1))
    if floor:
        commands[FLOOR] = Command([str(bin_dir / "python"), "-c", "pass"], lambda: env, (0,))
    run_checked(lint, cwd=cwd, env=commands[WARM].env(), expect=(0, 1))
    return commands


def _medians(commands: dict[str, Command], runs: int, cwd: Path) -> dict[str, float]:
    """Median ms of each command over ``runs`` rounds, each command once per round."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for number in range(runs):
        for name in rotated(list(commands), number):
            command = commands[name]
            command.before()
            samples[name].append(run_checked(command.argv, cwd=cwd, env=command.env(),
                                             expect=command.exits))
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def _cached(cache: Path, pack_name: str) -> int:
    """How many entries the pack ``pack_name`` of the cache folder ``cache`` (an
    ``XDG_CACHE_HOME``) holds (see migration_guard/cache.py)."""
    count = 0
    for pack in (cache / "migration-guard" / pack_name).glob("*.marshal"):
        _format, entries = marshal.loads(pack.read_bytes())
        count += len(entries)
    return count


def _print_case(label: str, medians: dict[str, float], warm: Path) -> None:
    squawk = medians[SQUAWK]
    for name, ms in medians.items():
        ratio = f"   {ms / squawk:5.2f}x squawk" if name != SQUAWK else ""
        print(f"{label:<26} {name:<28} {ms:8.1f} ms{ratio}")
    if FLOOR in medians:
        for name in (COLD, WARM, EDITED):
            over = medians[name] - medians[FLOOR]
            print(f"{label:<26} {name.removeprefix('migration-guard ') + ' over the floor':<28} "
                  f"{over:+8.1f} ms")
    print(f"{label:<26} {'warm cache holds':<28} {_cached(warm, 'lint-results'):8d} lint "
          f"results, {_cached(warm, 'lint-runs')} kept run(s)")


def _print_targets(results: dict[str, dict[str, float]]) -> None:
    """The targets beside the worst figure of this run for each."""
    for name in (COLD, WARM, EDITED):
        ratios = {label: m[name] / m[SQUAWK] for label, m in results.items() if label != ONE_FILE}
        worst = max(ratios, key=ratios.__getitem__)
        over = results[ONE_FILE][name] - results[ONE_FILE][FLOOR]
        print(f"target: {name} <= {TARGET_RATIO:.1f}x squawk from 100 files up: worst "
              f"{ratios[worst]:.2f}x ({worst}) -> {_verdict(ratios[worst] <= TARGET_RATIO)}")
        print(f"target: {name}, 1 file within {TARGET_OVER_FLOOR_MS:.0f} ms of python -c pass: "
              f"{over:+.1f} ms -> {_verdict(over <= TARGET_OVER_FLOOR_MS)}")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    if args.runs < 9:
        parser.error("--runs: at least 9")
    python = project_venv(*SQUAWK_PINS)
    # A cache or bytecode setting of the caller's shell must not change what is measured.
    env = {k: v for k, v in os.environ.items()
           if k not in ("XDG_CACHE_HOME", "PYTHONDONTWRITEBYTECODE")}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        cases = _generate(root)
        print(f"median of {args.runs} alternating whole-process runs; normal install: "
              f"{python.parent.parent}; {' '.join(SQUAWK_PINS)}; "
              f"{len(os.sched_getaffinity(0))} cores; load {os.getloadavg()[0]:.1f}")
        results: dict[str, dict[str, float]] = {}
        for number, (label, names) in enumerate(cases.items()):
            caches = Path(tmp) / f"cache-{number}"
            commands = _commands(names, python.parent, caches, env, cwd=root,
                                 floor=label == ONE_FILE)
            results[label] = _medians(commands, args.runs, root)
            _print_case(label, results[label], caches / "warm")
        _print_targets(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
