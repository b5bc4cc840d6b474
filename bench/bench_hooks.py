"""Benchmark the fast hooks on a large repository; prints figures (not a timed test).

A generated repository of 10,000 files holds 2,000 migrations (1,000 Alembic revisions in
one chain, 1,000 plain SQL files). The staged change is a typical one: 2 new migrations,
1 edited merged migration, 1 edited model, 1 unrelated file. Each fast hook is run as a
whole process, as pre-commit runs it, alternating with the floor (python start-up plus
``git diff --cached``), and the medians are printed side by side.

    python bench/bench_hooks.py [--runs 21]
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

REVISION = '"""r{n}"""\nfrom alembic import op\n\nrevision = "r{n:04d}"\ndown_revision = {down}\n' \
    "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.create_table('t{n}')" \
    "\n\n\ndef downgrade():\n    op.drop_table('t{n}')\n"


def git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def build(repo: Path, env: dict[str, str]) -> None:
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
    for rel, content in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    git(repo, "init", "-q", "-b", "main", env=env)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "base", env=env)
    git(repo, "checkout", "-q", "-b", "feature", env=env)
    (repo / "migrations/versions/r1001_new.py").write_text(
        REVISION.format(n=1001, down='"r1000"'))
    (repo / "db/migrations/1001_new.sql").write_text("create table s1001 (id bigint);\n")
    with open(repo / "db/migrations/0500_step.sql", "a") as handle:
        handle.write("-- edited\n")
    with open(repo / "app/models.py", "a") as handle:
        handle.write("\n# edited model\n")
    (repo / "src/pkg000/mod000.txt").write_text("edited\n")
    git(repo, "add", "-A", env=env)


def timed(cmd: list[str], repo: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=repo, env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    script = str(Path(sys.executable).with_name("migration-guard"))
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        # Installed packages carry compiled bytecode (pip and pre-commit compile at install
        # time); an editable checkout under PYTHONDONTWRITEBYTECODE would recompile each run.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("GIT_") and k != "PYTHONDONTWRITEBYTECODE"}
        import migration_guard

        subprocess.run([sys.executable, "-m", "compileall", "-q",
                        str(Path(migration_guard.__file__).parent)], check=True)
        env.update(GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b",
                   GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b")
        started = time.perf_counter()
        build(repo, env)
        print(f"repository: 10,000 files, 2,000 migrations, built in "
              f"{time.perf_counter() - started:.1f} s")
        commands = {
            "floor: python -c pass": [sys.executable, "-c", "pass"],
            "floor: git diff --cached": ["git", "diff", "--cached", "--name-status", "-z"],
            "required": [script, "required"],
            "immutable": [script, "immutable"],
            "linear": [script, "linear"],
            "required+immutable+linear": [script, "check", "--checks",
                                          "required,immutable,linear"],
            "lint (renders 1 Alembic revision)": [script, "lint"],
        }
        for cmd in commands.values():  # warm the page cache
            timed(cmd, repo, env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                samples[name].append(timed(cmd, repo, env))
        medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
        floor = medians["floor: python -c pass"] + medians["floor: git diff --cached"]
        print(f"{'what':32} {'median ms':>10} {'x floor':>8}")
        for name, value in medians.items():
            print(f"{name:32} {value:10.1f} {value / floor:8.2f}")
        print(f"{'floor (python + git diff)':32} {floor:10.1f}")
        print("target: each fast hook <= 80 ms median")
        out = subprocess.run([script, "check", "--checks", "required,immutable,linear"],
                             cwd=repo, env=env,
                             capture_output=True, text=True, check=False)
        print(f"verdict of the three git checks (exit {out.returncode}):")
        print("\n".join("  " + line for line in out.stdout.splitlines()))


if __name__ == "__main__":
    main()
