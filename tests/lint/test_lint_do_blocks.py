"""Statements inside drizzle-kit's ``DO $$ BEGIN ... EXCEPTION ... END $$`` wrappers."""

from __future__ import annotations

from migration_guard.lint import LintOptions, lint_bytes

FK = ('ALTER TABLE "posts" ADD CONSTRAINT "posts_author_fk" FOREIGN KEY ("author_id") '
      'REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;')


def _codes_at(sql: str) -> list[tuple[str, int | None, int | None]]:
    findings = lint_bytes(sql.encode(), "m.sql", options=LintOptions()).findings
    return [(f.code, f.line, f.column) for f in findings]


def test_statement_inside_a_do_block_is_linted_at_its_own_line() -> None:
    wrapped = ("CREATE TABLE t (id int);\n--> statement-breakpoint\nDO $$ BEGIN\n  " + FK
               + "\nEXCEPTION\n WHEN duplicate_object THEN null;\nEND $$;\n")
    assert _codes_at(wrapped) == [("MG302", 4, 3), ("MG309", 4, 3), ("MG313", 4, 3)]
    assert _codes_at(FK) == [("MG302", 1, 1), ("MG309", 1, 1), ("MG313", 1, 1)]


def test_do_block_without_an_exception_handler_stays_one_statement() -> None:
    assert _codes_at("DO $$\nBEGIN\n" + FK + "\nEND\n$$;\n") == []


def test_do_block_with_procedural_code_stays_one_statement() -> None:
    loop = ("DO $$ DECLARE r record; BEGIN FOR r IN SELECT 1 LOOP " + FK
            + " END LOOP; END $$;\n")
    assert _codes_at(loop) == []


def test_a_statement_in_a_do_block_ends_where_the_block_says() -> None:
    """The rules that read a statement's text (here: is ON DELETE written?) read only that
    statement, not the rest of the file after the block."""
    bare = FK.replace(" ON DELETE no action ON UPDATE no action", "")
    sql = ("SET lock_timeout = '2s';\nSET statement_timeout = '5s';\n"
           "DO $$ BEGIN\n  " + bare + "\nEXCEPTION\n WHEN duplicate_object THEN null;\n"
           "END $$;\n--> statement-breakpoint\n"
           'ALTER TABLE "comments" ADD CONSTRAINT "comments_post_fk" FOREIGN KEY ("post_id") '
           'REFERENCES "posts"("id") ON DELETE CASCADE NOT VALID;\n')
    options = LintOptions(extend_select=("MG381",))
    findings = lint_bytes(sql.encode(), "m.sql", options=options).findings
    assert [(f.code, f.line, f.column) for f in findings] == [
        ("MG302", 4, 3), ("MG381", 4, 3)]
