"""Benchmark the proven ``required`` for Drizzle; prints figures (not a timed test).

A generated Drizzle project of 50 tables (a column, an index and a foreign key each) has
its first migration made by drizzle-kit and committed; the staged change adds a column
to one table without a migration, so the fast rule would fail and drizzle-kit's own
generator judges it. ``migration-guard required`` (the whole process: git, the export of
the snapshot, drizzle-kit generate) alternates with ``drizzle-kit generate`` alone in a
copy of the same tree, in the same run; the medians and their ratio are printed.

    MG_TEST_NPM_MODULES=/path/to/node_modules python bench/bench_drizzle_required.py [--runs 7]

The node_modules is the one ``.ci/run`` installs from ``tests/npm`` (drizzle-kit,
drizzle-orm).
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

CONFIG = ('import { defineConfig } from "drizzle-kit";\n\nexport default defineConfig({\n'
          '  dialect: "postgresql",\n  schema: "./src/schema.ts",\n  out: "./drizzle",\n});\n')


def schema(tables: int, *, extra_column: bool = False) -> str:
    lines = ['import { index, integer, pgTable, serial, text, timestamp } from '
             '"drizzle-orm/pg-core";\n']
    for n in range(tables):
        parent = f'\n  parentId: integer("parent_id").references(() => t{n - 1}.id),' if n else ""
        extra = '\n  note: text("note"),' if extra_column and n == tables - 1 else ""
        lines.append(
            f'export const t{n} = pgTable("t{n}", {{\n  id: serial("id").primaryKey(),\n'
            f'  name: text("name").notNull(),\n  createdAt: timestamp("created_at")'
            f'.defaultNow().notNull(),{parent}{extra}\n}}, (t) => [index("t{n}_name_idx")'
            '.on(t.name)]);\n')
    return "\n".join(lines)


def run(cmd: list[str], cwd: Path, env: dict[str, str], *, expect: int = 0) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    return elapsed if proc.returncode == expect else _fail(cmd, proc)


def _fail(cmd: list[str], proc: subprocess.CompletedProcess[str]) -> float:
    raise SystemExit(f"{cmd} exited {proc.returncode}: {proc.stdout}{proc.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tables", type=int, default=50)
    args = parser.parse_args()
    modules = os.environ.get("MG_TEST_NPM_MODULES")
    if not modules or not Path(modules, ".bin", "drizzle-kit").exists():
        raise SystemExit("set MG_TEST_NPM_MODULES to a node_modules with drizzle-kit "
                         "(npm ci of tests/npm)")
    kit = str(Path(modules, ".bin", "drizzle-kit"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b", CI="1")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        (repo / "src").mkdir(parents=True)
        (repo / "node_modules").symlink_to(modules)
        (repo / ".gitignore").write_text("node_modules\n")
        (repo / "drizzle.config.ts").write_text(CONFIG)
        (repo / "src/schema.ts").write_text(schema(args.tables))
        subprocess.run([kit, "generate", "--name", "init"], cwd=repo, env=env, check=True,
                       capture_output=True)
        for git_args in (["init", "-q", "-b", "main"], ["add", "-A"],
                         ["commit", "-q", "-m", "init"], ["checkout", "-q", "-b", "f"]):
            subprocess.run(["git", *git_args], cwd=repo, env=env, check=True)
        (repo / "src/schema.ts").write_text(schema(args.tables, extra_column=True))
        subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True)
        peer = Path(tmp) / "peer"
        shutil.copytree(repo, peer, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        ours_cmd = [sys.executable, "-m", "migration_guard", "required"]
        peer_cmd = [kit, "generate"]
        run(ours_cmd, repo, env, expect=1)  # warm the page cache and node's compile cache
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(args.runs):
            ours.append(run(ours_cmd, repo, env, expect=1))  # MG101, proven
            theirs.append(run(peer_cmd, peer, env))
            for written in (peer / "drizzle").glob("0001_*.sql"):
                written.unlink()
            for written in (peer / "drizzle/meta").glob("0001_*.json"):
                written.unlink()
            shutil.copy(repo / "drizzle/meta/_journal.json", peer / "drizzle/meta/_journal.json")
        mine, peer_median = statistics.median(ours), statistics.median(theirs)
        print(f"schema: {args.tables} tables; staged: one column added, no migration "
              f"({args.runs} runs each, alternating)")
        print(f"{'what':44} {'median s':>9}")
        print(f"{'migration-guard required (whole process)':44} {mine:9.2f}")
        print(f"{'drizzle-kit generate alone':44} {peer_median:9.2f}")
        print(f"ratio: {mine / peer_median:.2f}x drizzle-kit's own time (target <= 1.3x)")


if __name__ == "__main__":
    main()
