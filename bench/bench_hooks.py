"""Benchmark the fast hooks on a large repository; prints figures (not a timed test).

A generated repository of 10,000 files holds 2,000 migrations (1,000 Alembic revisions in
one chain, 1,000 plain SQL files), its objects packed as a used repository's are. The staged
change is a typical one that passes: a new Alembic revision for an edited model, a new SQL
migration and an unrelated file; every hook must exit 0 on it before anything is timed. Each
fast hook of ``.pre-commit-hooks.yaml`` (``migrations-apply`` needs a database and is not
one) is run as a whole process with the entry pre-commit runs, alternating with the floor
(one Python process that runs ``git diff --cached`` through ``subprocess``), each round
starting one command further. Hooks and floor run from a cached venv holding a normal
(non-editable, byte-compiled) install of this project, as pre-commit installs it (see
``peers.project_venv``). The cache directory is a temporary one, filled by the untimed
first run as a repeated commit finds it. Medians and ratios to the floor are printed.

    python bench/bench_hooks.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

# bench/ is on sys.path: run as a script
from peers import ROOT, project_venv, rotated, run_checked, write_files

FLOOR = "floor"
FLOOR_CODE = ("import subprocess; subprocess.run(['git', 'diff', '--cached', '--name-status', "
              "'-z'], capture_output=True, check=True)")

REVISION = '"""r{n}"""\nfrom alembic import op\n\nrevision = "r{n:04d}"\ndown_revision = {down}\n' \
    "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.create_table('t{n}')" \
    "\n\n\ndef downgrade():\n    op.drop_table('t{n}')\n"


def git(repo: Path, *args: str, env: dict[str, str]) -> None:
    """Run git in ``repo``; a failure stops the benchmark, showing git's output."""
    run_checked(["git", *args], cwd=repo, env=env)


def clean_env(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` without the caller's git state: no inherited ``GIT_*`` variable, no system
    or global config (a global ``core.hooksPath`` would stop ``pre-commit install``), a fixed
    identity; no cache or bytecode setting of the caller's shell either."""
    env = {k: v for k, v in environ.items() if not k.startswith("GIT_")
           and k not in ("XDG_CACHE_HOME", "PYTHONDONTWRITEBYTECODE")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_AUTHOR_NAME="b",
               GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b")
    return env


def build_base(repo: Path, env: dict[str, str]) -> None:
    """10,000 files with 2,000 migrations committed on ``main`` and packed, as in a used
    repository (a later ``git commit`` would otherwise start a background gc of the 10,000
    loose objects while others are timed); ``feature`` checked out."""
    files: dict[str, str] = {
        "alembic.ini": "[alembic]\nscript_location = migrations\nprepend_sys_path = .\n",
        "migrations/env.py": "from app.models import Base\ntarget_metadata = Base.metadata\n",
        "app/__init__.py": "",
        "app/models.py": "import sqlalchemy\nfrom sqlalchemy.orm import DeclarativeBase\n\n\n"
                         "class Base(DeclarativeBase):\n    pass\n",
    }
    for n in range(1, 1001):
        down = "None" if n == 1 else f'"r{n - 1:04d}"'
        files[f"migrations/versions/r{n:04d}_step.py"] = REVISION.format(n=n, down=down)
        files[f"db/migrations/{n:04d}_step.sql"] = f"create table s{n} (id bigint);\n"
    other = 10_000 - len(files)
    for n in range(other):
        files[f"src/pkg{n // 100:03d}/mod{n % 100:03d}.txt"] = f"file {n}\n"
    write_files(repo, files)
    git(repo, "init", "-q", "-b", "main", env=env)
    git(repo, "add", "-A", env=env)
    git(repo, "-c", "maintenance.auto=false", "commit", "-q", "-m", "base", env=env)
    git(repo, "gc", "-q", env=env)
    git(repo, "checkout", "-q", "-b", "feature", env=env)


#: The next SQL migration of the plain SQL project.
NEW_SQL = "db/migrations/1001_new.sql"


def stage_new_sql(repo: Path, env: dict[str, str]) -> None:
    """Stage the next SQL migration of the plain SQL project, one that passes every hook."""
    write_files(repo, {NEW_SQL: "create table s1001 (id bigint);\n"})
    git(repo, "add", NEW_SQL, env=env)


def stage_typical_change(repo: Path, env: dict[str, str]) -> None:
    """A new Alembic revision for an edited model, a new SQL migration, an unrelated edit."""
    write_files(repo, {"migrations/versions/r1001_new.py":
                       REVISION.format(n=1001, down='"r1000"'),
                       "src/pkg000/mod000.txt": "edited\n"})
    with open(repo / "app/models.py", "a") as handle:
        handle.write("\n# edited model\n")
    stage_new_sql(repo, env)
    git(repo, "add", "-A", env=env)


def fast_hook_manifest() -> list[dict[str, Any]]:
    """The hooks of the manifest pre-commit reads, but ``migrations-apply`` (a database)."""
    import yaml

    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return [hook for hook in manifest if hook["id"] != "migrations-apply"]


def fast_hooks(script: str) -> dict[str, list[str]]:
    """Hook id -> command (the entry's first word is the console script)."""
    return {hook["id"]: [script, *hook["entry"].split()[1:]] for hook in fast_hook_manifest()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    if args.runs < 9:
        parser.error("--runs: at least 9")
    python = project_venv()
    script = str(python.with_name("migration-guard"))
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        env = {**clean_env(dict(os.environ)), "XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        started = time.perf_counter()
        build_base(repo, env)
        stage_typical_change(repo, env)
        print(f"repository: 10,000 files, 2,000 migrations, built in "
              f"{time.perf_counter() - started:.1f} s; normal install: {python.parent.parent}")
        commands = {FLOOR: [str(python), "-c", FLOOR_CODE], **fast_hooks(script)}
        for cmd in commands.values():  # every hook passes the change; warms the page cache
            run_checked(cmd, cwd=repo, env=env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for number in range(args.runs):
            for name in rotated(list(commands), number):
                samples[name].append(run_checked(commands[name], cwd=repo, env=env))
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    floor = medians[FLOOR]
    print(f"median of {args.runs} alternating runs, staged change passes every hook; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'hook id':28} {'command':34} {'median ms':>10} {'x floor':>8}")
    for name, value in medians.items():
        shown = "python -c: subprocess git diff" if name == FLOOR else " ".join(
            ["migration-guard", *commands[name][1:]])
        print(f"{name:28} {shown:34} {value:10.1f} {value / floor:8.2f}")
    print("target: each of required, immutable, linear <= 2.0x the floor")


if __name__ == "__main__":
    main()
