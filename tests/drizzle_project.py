"""A real Drizzle project in a test repository, with drizzle-kit and drizzle-orm from npm.

The npm packages come from ``tests/npm`` (pinned with its lock file); ``.ci/run`` installs
them with ``npm ci`` and names their ``node_modules`` in ``MG_TEST_NPM_MODULES``. A test
that needs them fails when they are missing: it never skips.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import Repo

ENV_VAR = "MG_TEST_NPM_MODULES"
CONFIG = """import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema.ts",
  out: "./drizzle",
});
"""
USERS = """import { relations } from "drizzle-orm";
import { integer, pgTable, serial, text } from "drizzle-orm/pg-core";

export const users = pgTable("users", {
  id: serial("id").primaryKey(),
  name: text("name").notNull(),
});

export const posts = pgTable("posts", {
  id: serial("id").primaryKey(),
  authorId: integer("author_id").notNull().references(() => users.id),
});
"""
RELATIONS = """
export const usersRelations = relations(users, ({ many }) => ({ posts: many(posts) }));
"""


def npm_modules() -> Path:
    """The installed test tools' node_modules; the test fails when they are missing."""
    value = os.environ.get(ENV_VAR)
    modules = Path(value) if value else None
    if modules is None or not (modules / ".bin" / "drizzle-kit").exists():
        pytest.fail(f"{ENV_VAR} does not name a node_modules with drizzle-kit: install the "
                    "test tools: npm ci --prefix DIR (with tests/npm/package*.json copied "
                    f"there), then export {ENV_VAR}=DIR/node_modules")
    return modules


def install(repo: Repo, package_dir: str = "") -> None:
    """Make the test tools the repository's installed packages (ignored by git)."""
    where = repo.path / package_dir if package_dir else repo.path
    where.mkdir(parents=True, exist_ok=True)
    link = where / "node_modules"
    if not link.exists():
        link.symlink_to(npm_modules())
    repo.write(".gitignore", "node_modules\n")


def drizzle_kit(repo: Repo, *args: str, package_dir: str = "") -> str:
    """Run the real drizzle-kit in the repository's work tree (as its developer would)."""
    cwd = repo.path / package_dir if package_dir else repo.path
    proc = subprocess.run([str(npm_modules() / ".bin" / "drizzle-kit"), *args], cwd=cwd,
                          env={**repo.env, "CI": "1"}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def setup_project(repo: Repo, package_dir: str = "") -> None:
    """A Drizzle project on main: config, schema, and its first migration made by
    drizzle-kit generate; then a feature branch."""
    prefix = f"{package_dir}/" if package_dir else ""
    install(repo, package_dir)
    repo.write(f"{prefix}drizzle.config.ts", CONFIG)
    repo.write(f"{prefix}src/schema.ts", USERS)
    drizzle_kit(repo, "generate", "--name", "init", package_dir=package_dir)
    repo.commit("drizzle project")
    repo.branch("feature")


def migrate(repo: Repo, folder: Path, conninfo: str) -> None:
    """Apply ``folder``'s migrations with drizzle-orm's own migrator (node-postgres)."""
    import psycopg.conninfo

    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    script = repo.path / "migrate.cjs"
    script.write_text(
        "const { Client } = require('pg');\n"
        "const { drizzle } = require('drizzle-orm/node-postgres');\n"
        "const { migrate } = require('drizzle-orm/node-postgres/migrator');\n"
        "(async () => {\n"
        "  const client = new Client(JSON.parse(process.argv[2]));\n"
        "  await client.connect();\n"
        "  await migrate(drizzle(client), { migrationsFolder: process.argv[3] });\n"
        "  await client.end();\n"
        "})().catch((e) => { console.error(e); process.exit(1); });\n")
    config = {"host": params.get("host"), "port": int(params.get("port") or 5432),
              "user": params.get("user"), "database": params.get("dbname"),
              "password": params.get("password")}
    proc = subprocess.run(["node", str(script), __import__("json").dumps(config), str(folder)],
                          cwd=repo.path, capture_output=True, text=True, timeout=120,
                          check=False)
    script.unlink()
    assert proc.returncode == 0, proc.stdout + proc.stderr
