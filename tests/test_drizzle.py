"""Drizzle projects through the git checks, with the real drizzle-kit from npm.

required: drizzle-kit's own generator judges a schema change the fast rule would fail;
immutable: merged journal entries and snapshots; linear: ``when`` order and the snapshot
chain; lint: drizzle's one transaction, and statements inside drizzle-kit's DO wrappers.
"""

from __future__ import annotations

import json

from conftest import Repo
from drizzle_project import RELATIONS, USERS, drizzle_kit, setup_project

JOURNAL = "drizzle/meta/_journal.json"
SNAPSHOT = "drizzle/meta/0000_snapshot.json"


def header(repo: Repo) -> str:
    main = repo.git("rev-parse", "main").strip()[:12]
    return (f"migration-guard: base: main at {main} (default branch); checked: the index "
            "(staged changes)")


def test_column_added_without_migration_fails_with_the_generated_sql(repo: Repo) -> None:
    setup_project(repo)
    repo.write("src/schema.ts", USERS.replace(
        '  name: text("name").notNull(),\n',
        '  name: text("name").notNull(),\n  email: text("email"),\n'))
    repo.add()
    result = repo.mg("required")
    assert result.code == 1, result.out + result.err
    assert result.lines == [
        header(repo),
        "src/schema.ts: MG101 schema changed but no migration was added to drizzle/: "
        'drizzle-kit generate would write a migration: ALTER TABLE "users" ADD COLUMN '
        '"email" text;',
        "  hint: generate it and stage it: npx drizzle-kit generate",
        "1 finding (required over 1 project)",
    ]
    assert repo.git("status", "--porcelain") == "M  src/schema.ts\n"


def test_relations_only_edit_passes(repo: Repo) -> None:
    setup_project(repo)
    repo.write("src/schema.ts", USERS + RELATIONS)
    repo.add()
    result = repo.mg("required")
    assert (result.code, result.err) == (0, ""), result.out
    assert result.lines == [
        header(repo),
        "src/schema.ts: note: drizzle-kit generate (run on the checked snapshot) writes no "
        "migration: the change has no schema effect",
        "no findings (required over 1 project)",
    ]


def test_schema_change_with_its_generated_migration_passes(repo: Repo) -> None:
    setup_project(repo)
    repo.write("src/schema.ts", USERS.replace('text("name")', 'text("name").default("x")'))
    drizzle_kit(repo, "generate", "--name", "name_default")
    repo.add()
    result = repo.mg("required")
    assert (result.code, result.lines[1:]) == (0, ["no findings (required over 1 project)"])


def test_rename_drizzle_kit_would_ask_about_cannot_be_judged(repo: Repo) -> None:
    setup_project(repo)
    repo.write("src/schema.ts", USERS.replace('name: text("name")', 'fullname: text("fullname")'))
    repo.add()
    result = repo.mg("required")
    assert result.code == 2, result.out + result.err
    assert result.err.startswith(
        "migration-guard: error: drizzle-kit generate could not decide whether drizzle needs "
        "a migration (exit 0): Reading config file 'drizzle.config.ts' Is fullname column in "
        "users table created or renamed from another column?")
    assert result.err.splitlines()[-1] == (
        "  hint: run npx drizzle-kit generate yourself and answer its questions (a rename), "
        "then stage the migration it writes")


def test_without_drizzle_kit_the_change_is_judged_by_file_name(repo: Repo) -> None:
    setup_project(repo)
    (repo.path / "node_modules").unlink()
    repo.write("src/schema.ts", USERS + RELATIONS)
    repo.add()
    result = repo.mg("required")
    assert result.code == 1, result.out + result.err
    assert result.lines[1] == (
        "src/schema.ts: MG101 schema source changed but no migration was added to drizzle/ "
        "(schema in drizzle.config.ts); judged by file name: drizzle-kit is not installed (no "
        "node_modules/.bin/drizzle-kit from ./ up)")


def test_monorepo_package_runs_the_generator_in_its_own_directory(repo: Repo) -> None:
    repo.write("package.json", json.dumps({"private": True, "workspaces": ["packages/*"]}))
    repo.write("packages/database/package.json", json.dumps(
        {"name": "database", "scripts": {"db:generate": "drizzle-kit generate"}}))
    setup_project(repo, "packages/database")
    repo.write("packages/database/src/schema.ts", USERS.replace(
        '  name: text("name").notNull(),\n',
        '  name: text("name").notNull(),\n  age: integer("age"),\n'))
    repo.add()
    result = repo.mg("required")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:3] == [
        "packages/database/src/schema.ts: MG101 schema changed but no migration was added to "
        'packages/database/drizzle/: drizzle-kit generate would write a migration: ALTER TABLE '
        '"users" ADD COLUMN "age" integer;',
        "  hint: generate it and stage it: npx drizzle-kit generate (in packages/database/)",
    ]


def test_config_named_by_a_root_script_resolves_out_from_the_root(repo: Repo) -> None:
    repo.write("package.json", json.dumps({"private": True, "scripts": {
        "db:generate": "drizzle-kit generate --config=packages/database/drizzle.config.ts"}}))
    repo.write("packages/database/drizzle.config.ts", "export default { dialect: 'postgresql', "
               "schema: './packages/database/schema.ts', out: './migrations' };\n")
    repo.write("packages/database/schema.ts", "export {};\n")
    repo.write("migrations/0000_init.sql", "CREATE TABLE a (id int);\n")
    repo.write("migrations/meta/_journal.json", json.dumps({"version": "7", "entries": [
        {"idx": 0, "version": "7", "when": 1, "tag": "0000_init", "breakpoints": True}]}))
    repo.commit("monorepo")
    result = repo.mg("projects")
    assert result.code == 0, result.out + result.err
    assert result.lines == [
        "migrations",
        "  framework: drizzle",
        "  root: .",
        "  migrations: migrations",
        "  schema: packages/database/schema.ts (schema in packages/database/drizzle.config.ts)",
    ]


# -- immutable ---------------------------------------------------------------------------


def test_merged_journal_entry_when_edited_fails_immutable(repo: Repo) -> None:
    setup_project(repo)
    journal = json.loads((repo.path / JOURNAL).read_text())
    old_when = journal["entries"][0]["when"]
    journal["entries"][0]["when"] = old_when + 1
    repo.write(JOURNAL, json.dumps(journal, indent=2))
    repo.add()
    result = repo.mg("immutable")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:4] == [
        f"{JOURNAL}:9: MG102 merged journal entry 0000_init edited (merged in main at "
        f"{repo.git('rev-parse', 'main').strip()[:12]} (default branch)): when {old_when} -> "
        f"{old_when + 1}",
        "  hint: restore the entry's values from the base (drizzle's migrator compares "
        '"when" with the database; an edited entry is skipped or re-run)',
        "1 finding (immutable over 1 project)",
    ]


def test_merged_snapshot_edited_fails_immutable(repo: Repo) -> None:
    setup_project(repo)
    snapshot = json.loads((repo.path / SNAPSHOT).read_text())
    snapshot["tables"]["public.users"]["columns"]["name"]["notNull"] = False
    repo.write(SNAPSHOT, json.dumps(snapshot, indent=2))
    repo.add()
    result = repo.mg("immutable")
    main = repo.git("rev-parse", "main").strip()[:12]
    assert result.code == 1, result.out + result.err
    assert result.lines[1:3] == [
        f"{SNAPSHOT}: MG102 Drizzle snapshot edited after it was merged (merged in main at "
        f"{main} (default branch)): drizzle-kit diffs the schema against the newest "
        "snapshot, so the next generated migration is wrong",
        f"  hint: restore it: git restore --source={main} --staged --worktree -- {SNAPSHOT}",
    ]


def test_new_migration_appended_to_the_journal_passes_immutable(repo: Repo) -> None:
    setup_project(repo)
    repo.write("src/schema.ts", USERS.replace('text("name")', 'text("name").default("x")'))
    drizzle_kit(repo, "generate", "--name", "name_default")
    repo.add()
    result = repo.mg("immutable")
    assert (result.code, result.lines[1:]) == (0, ["no findings (immutable over 1 project)"])


# -- linear ------------------------------------------------------------------------------


def test_new_entry_whose_when_equals_the_merged_one_fails_linear(repo: Repo) -> None:
    setup_project(repo)
    repo.write("src/schema.ts", USERS.replace('text("name")', 'text("name").default("x")'))
    drizzle_kit(repo, "generate", "--name", "name_default")
    journal = json.loads((repo.path / JOURNAL).read_text())
    merged_when = journal["entries"][0]["when"]
    journal["entries"][1]["when"] = merged_when
    repo.write(JOURNAL, json.dumps(journal, indent=2))
    repo.add()
    result = repo.mg("linear")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:3] == [
        f"{JOURNAL}:16: MG110 new journal entry 0001_name_default has when {merged_when}, not "
        f"after the newest merged entry's {merged_when}: drizzle's migrator silently skips it "
        "on every database that applied the merged one",
        "  hint: regenerate the migration on top of the base: drizzle-kit generate",
    ]


def test_snapshot_forked_from_an_older_parent_fails_linear(repo: Repo) -> None:
    setup_project(repo)
    repo.write("src/schema.ts", USERS.replace('text("name")', 'text("name").default("x")'))
    drizzle_kit(repo, "generate", "--name", "name_default")
    path = "drizzle/meta/0001_snapshot.json"
    snapshot = json.loads((repo.path / path).read_text())
    root = snapshot["prevId"]
    snapshot["prevId"] = "00000000-0000-0000-0000-000000000000"
    repo.write(path, json.dumps(snapshot, indent=2))
    repo.add()
    result = repo.mg("linear")
    assert result.code == 1, result.out + result.err
    assert result.lines[1] == (
        f"{path}: MG126 snapshot prevId '00000000-0000-0000-0000-000000000000' is not the id "
        f"of drizzle/meta/0000_snapshot.json ({root!r}): the snapshot chain forks or skips a "
        "migration")


# -- lint --------------------------------------------------------------------------------


def _new_sql_migration(repo: Repo, sql: str) -> str:
    """A custom migration made by drizzle-kit generate --custom, filled with ``sql``."""
    drizzle_kit(repo, "generate", "--custom", "--name", "custom")
    path = "drizzle/0001_custom.sql"
    repo.write(path, sql)
    repo.add()
    return path


def test_create_index_concurrently_fails_lint_with_a_drizzle_hint(repo: Repo) -> None:
    setup_project(repo)
    path = _new_sql_migration(repo, 'CREATE INDEX CONCURRENTLY "users_name_idx" ON "users" '
                              '("name");\n')
    result = repo.mg("lint")
    assert result.code == 1, result.out + result.err
    assert result.lines[1:3] == [
        f"{path}:1:1: MG340 CREATE INDEX CONCURRENTLY inside the one transaction drizzle's "
        "migrator runs all pending migrations in: PostgreSQL rejects it (\"cannot run inside "
        "a transaction block\") and the migration fails at deploy time",
        "  hint: drizzle-kit migrate and drizzle-orm's migrate() run all pending migrations "
        "in one transaction, so PostgreSQL rejects this there: run the statement as a "
        "separate step outside the migrator (a script with its own connection, after "
        "migrate), or set runner: per-file for this project if your deploy applies the SQL "
        "files another way",
    ]
    assert "CONCURRENTLY" not in "".join(line for line in result.lines if "hint:" in line
                                         and "MG301" in line)


def test_plain_create_index_hint_does_not_recommend_concurrently(repo: Repo) -> None:
    setup_project(repo)
    path = _new_sql_migration(repo, 'CREATE INDEX "users_name_idx" ON "users" ("name");\n')
    result = repo.mg("lint")
    assert result.code == 1, result.out + result.err
    assert result.lines[2] == (
        "  hint: create the index while the table is small or during a quiet window; for a "
        "large busy table build it with CREATE INDEX CONCURRENTLY in a separate step outside "
        "drizzle's migrator (its one transaction rejects CONCURRENTLY), then record it in the "
        "schema")
    assert result.lines[1].startswith(f"{path}:1:1: MG301 ")


def test_runner_per_file_lints_concurrently_as_a_file_of_its_own(repo: Repo) -> None:
    setup_project(repo)
    repo.write(".migration-guard.yaml", "projects:\n  - migrations: drizzle\n"
               "    framework: drizzle\n    runner: per-file\n")
    _new_sql_migration(repo, 'CREATE INDEX CONCURRENTLY "users_name_idx" ON "users" '
                       '("name");\n')
    result = repo.mg("lint")
    assert (result.code, result.lines[1:]) == (0, ["no findings (lint over 1 project)"])


FK = ('ALTER TABLE "posts" ADD CONSTRAINT "posts_author_fk" FOREIGN KEY ("author_id") '
      'REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;')


def test_foreign_key_inside_a_do_block_gets_the_findings_of_the_bare_statement(
        repo: Repo) -> None:
    setup_project(repo)
    bare_path = _new_sql_migration(repo, FK + "\n")
    bare = repo.mg("lint")
    repo.write(bare_path, "DO $$ BEGIN\n " + FK + "\nEXCEPTION\n WHEN duplicate_object THEN "
               "null;\nEND $$;\n")
    repo.add()
    wrapped = repo.mg("lint")
    assert bare.code == 1, bare.out + bare.err
    assert [line.replace(":1:1:", ":2:2:") for line in bare.lines[1:]] == wrapped.lines[1:]



def test_configured_out_that_resolves_to_nothing_is_a_note(repo: Repo) -> None:
    repo.write("packages/database/package.json", json.dumps(
        {"name": "database", "scripts": {"db:generate": "drizzle-kit generate"}}))
    repo.write("packages/database/drizzle.config.ts", "export default { dialect: "
               "'postgresql', schema: './src/schema.ts', out: './drizzle' };\n")
    repo.write("packages/database/src/schema.ts", "export {};\n")
    repo.commit("a Drizzle package before its first migration")
    result = repo.mg("check", "--all")
    assert (result.code, result.err) == (0, ""), result.out
    assert result.lines[1:] == [
        "packages/database/drizzle.config.ts: note: out resolves to packages/database/drizzle/ "
        "(resolved from packages/database/, where drizzle-kit runs), which holds no "
        "migrations yet: nothing to check there until drizzle-kit generate writes one",
        "no findings (required, immutable, linear, lint over 1 project)",
    ]


def test_new_migration_template_does_not_recommend_concurrently(repo: Repo) -> None:
    setup_project(repo)
    result = repo.mg("new", "add_index")
    assert result.code == 0, result.out + result.err
    written = sorted((repo.path / "drizzle").glob("0001_*.sql"))
    assert [p.name for p in written] == ["0001_add_index.sql"]
    text = written[0].read_text()
    assert text.startswith("-- drizzle's migrator runs all pending migrations in one "
                           "transaction: no CONCURRENTLY, VACUUM or other statement "
                           "PostgreSQL refuses inside one.\n")
    assert "CREATE INDEX\n-- CONCURRENTLY" not in text
    assert text.count("CONCURRENTLY") == 1
