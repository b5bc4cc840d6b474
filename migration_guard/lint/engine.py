"""The lint engine: SQL text in, findings out. Pure; imports only pglast and the stdlib.

The SQL is parsed once by PostgreSQL's own grammar (pglast's JSON parse tree, which is
several times faster to build than pglast's Python node objects), then each statement is
dispatched to the rules for its node type, in file order, with what earlier statements did.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from migration_guard.findings import Finding, sort_key
from migration_guard.lint.analysis import Analysis, LintResult, Statement
from migration_guard.lint.context import Context, Node, names, table_name
from migration_guard.lint.options import LintOptions
from migration_guard.lint.pgparser import parser as pg_parser
from migration_guard.lint.registry import enabled_codes, exempt_tables, severities
from migration_guard.lint.rules import Plan, plan_for
from migration_guard.lint.rules.locking import timeouts
from migration_guard.lint.source import SourceMap, decode, line_and_column_of_byte
from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from migration_guard.lint.ignores import Ignore

_META_LINE = r"^[ \t]*(\\[A-Za-z!?;.\\]*)"


class _Setup(NamedTuple):
    enabled: frozenset[str]
    plan: Plan
    timeouts: bool
    #: Codes whose severity is not "error".
    warnings: frozenset[str]
    exempt: dict[str, frozenset[str]]


@lru_cache(maxsize=32)
def _setup(options: LintOptions) -> _Setup:
    enabled = enabled_codes(options)
    warnings = frozenset(code for code, level in severities(options).items()
                         if level == "warning")
    return _Setup(enabled, plan_for(enabled), bool({"MG309", "MG313"} & enabled), warnings,
                  exempt_tables(options))


def lint_sql(
    sql: str,
    path: str,
    *,
    options: LintOptions,
    created_tables: set[str] | frozenset[str] | None = None,
) -> LintResult:
    """Lint one migration's SQL text.

    ``created_tables`` names tables created earlier in the same change set, exactly as
    returned in :attr:`LintResult.created_tables` for earlier files (``schema.table``, or
    the bare name for ``public``); locking, rewrite and destructive rules skip statements
    on them. The set is only read, never copied or changed. Raises :class:`GuardError` only for
    invalid ``options``; malformed SQL is a finding.
    """
    analysis = _analyse(sql, path, options, created_tables, with_statements=False)
    return LintResult(analysis.findings, analysis.created_tables)


def lint_bytes(
    data: bytes,
    path: str,
    *,
    options: LintOptions,
    created_tables: set[str] | frozenset[str] | None = None,
) -> LintResult:
    """Lint a migration file's bytes: UTF-8 (a BOM is skipped); anything else is MG391."""
    analysis = analyse_bytes(data, path, options=options, created_tables=created_tables)
    return LintResult(analysis.findings, analysis.created_tables)


def analyse_bytes(
    data: bytes,
    path: str,
    *,
    options: LintOptions,
    created_tables: set[str] | frozenset[str] | None = None,
) -> Analysis:
    """:func:`lint_bytes` plus the tables asked about (no statement positions)."""
    text, bad_offset = decode(data)
    if bad_offset is not None:
        line, column = line_and_column_of_byte(data, bad_offset)
        finding = Finding(
            "MG391", path, line,
            f"byte 0x{data[bad_offset]:02x} at offset {bad_offset} is not valid UTF-8: "
            "PostgreSQL with client_encoding UTF8 rejects the file, or another encoding "
            "stores different text than the author saw",
            "re-save the file as UTF-8 (for example: iconv -f latin1 -t utf-8)",
            column, "lint")
        return Analysis([finding], frozenset(), [])
    return _analyse(text, path, options, created_tables, with_statements=False)


def analyse_sql(
    sql: str,
    path: str,
    *,
    options: LintOptions,
    created_tables: set[str] | frozenset[str] | None = None,
) -> Analysis:
    """:func:`lint_sql` plus where each statement starts (for mapping to other sources)."""
    return _analyse(sql, path, options, created_tables, with_statements=True)


#: Statements :func:`_track` records (a name the rules treat as new from then on).
_TRACKED = frozenset({"CreateStmt", "CreateTableAsStmt", "RenameStmt"})


def _analyse(
    sql: str,
    path: str,
    options: LintOptions,
    created_tables: set[str] | frozenset[str] | None,
    *,
    with_statements: bool,
) -> Analysis:
    setup = _setup(options)
    enabled, plan = setup.enabled, setup.plan
    source = SourceMap(sql)
    findings: list[Finding] = []
    tree, raw_json = _parse(sql, path, source, findings)
    from_parser = bool(findings)  # MG300, MG390: made before the rules run
    has_directives = "migration-guard" in sql or "squawk-ignore" in sql
    # Statement positions cost a line lookup each: only ignore comments and callers
    # mapping statements to other sources (Alembic) need them.
    keep = with_statements or has_directives
    kept: list[tuple[int, str, Node]] = []
    created: frozenset[str] = frozenset()
    asked: set[str] = set()
    targets: dict[int, str] = {}  # statement offset -> its table, for exempt_tables
    if tree is not None:
        ctx = Context(options, enabled, created_tables or frozenset(), asked)
        ctx.source = source
        # The parser truncates names to 63 bytes: only a file with a long name in its tree
        # can hold one written longer (MG361 then reads the statement's text).
        ctx.long_names = "MG361" in enabled and (
            not sql.isascii() or raw_json is None or _LONG_NAME.search(raw_json) is not None)
        dispatch = plan.dispatch
        for offset, length, node_type, node in _statements(tree, source):
            ctx.offset = offset
            ctx.length = length
            if keep:
                kept.append((offset, node_type, node))
            if setup.exempt:
                targets[offset] = _target(node)
            if setup.timeouts:
                timeouts(node_type, node, ctx)
            for handler in dispatch.get(node_type, ()):
                handler(node, ctx)
            if node_type in _TRACKED:
                _track(node_type, node, ctx)
        for finish in plan.finishers:
            finish(ctx)
        warnings = setup.warnings
        for raw_finding in ctx.findings:
            code = raw_finding.code
            if targets and targets.get(raw_finding.offset) in setup.exempt.get(code, ()):
                continue
            line, column = source.position(raw_finding.offset)
            findings.append(Finding(code, path, line, raw_finding.message, raw_finding.hint,
                                    column, "lint", "",
                                    "warning" if code in warnings else "error"))
        created = frozenset(ctx.created)
    statements = [Statement(*source.position(offset), node_type, _target(node))
                  for offset, node_type, node in kept]
    if has_directives:
        from migration_guard.lint.ignores import apply_ignores

        ignores, problems = _sql_ignores(sql, path, source, statements)
        findings = apply_ignores(findings, ignores, path=path, enabled=enabled,
                                 report_unused=options.report_unused_ignores)
        findings.extend(p for p in problems if p.code in enabled)
    if setup.warnings and (has_directives or from_parser):  # findings made outside the rules
        findings = [f._replace(severity="warning") if f.code in setup.warnings else f
                    for f in findings]
    findings.sort(key=sort_key)
    return Analysis(findings, created, statements, frozenset(asked))


def _statements(tree: list[Any],
                source: SourceMap) -> Iterator[tuple[int, int, str, Node]]:
    """Each statement with its byte offset and length (0: to the end of the file); a DO
    block's statements in its place."""
    for raw in tree:
        [(node_type, node)] = raw["stmt"].items()
        offset = raw.get("stmt_location", 0)
        inside = None
        if node_type == "DoStmt":
            from migration_guard.lint.doblock import statements_in_do

            inside = statements_in_do(node, offset, source.data)
        if inside is None:
            yield offset, raw.get("stmt_len", 0), node_type, node
        else:
            yield from inside


def _target(node: Node) -> str:
    """The table a statement is about (its relation, first dropped or truncated table)."""
    relation = node.get("relation") or node.get("table") or node.get("into", {}).get("rel")
    if isinstance(relation, dict):
        return table_name(relation)
    for item in node.get("relations") or []:
        return table_name(item.get("RangeVar", {}))
    if node.get("removeType") == "OBJECT_TABLE" or node.get("objtype") == "OBJECT_TABLE":
        objects = node.get("objects") or [node.get("object") or {}]
        return ".".join(names(objects[0].get("List", {}).get("items"))).removeprefix("public.")
    return ""


def _track(node_type: str, node: Node, ctx: Context) -> None:
    """Record what a statement created, after the rules saw it."""
    if node_type == "CreateStmt":
        table = table_name(node.get("relation") or {})
    elif node_type == "CreateTableAsStmt":
        table = table_name(node.get("into", {}).get("rel") or {})
    elif node_type == "RenameStmt" and node.get("renameType") == "OBJECT_TABLE":
        old = table_name(node.get("relation") or {})
        if not ctx.is_new(old):
            return
        schema = (node.get("relation") or {}).get("schemaname")
        table = table_name({"schemaname": schema, "relname": node.get("newname", "")})
    else:
        return
    if table:
        ctx.existing_new.add(table)
        ctx.created.append(table)


#: A name that may be a truncated one in an ASCII file (in other files, 63 bytes can be as
#: few as 16 characters: every DDL statement's names are measured). Every key MG361 reads
#: ends in "name" (relname, colname, idxname, conname, ...); a few others do too, which
#: only means MG361 measures that file's names. Over the JSON of 1,000 migrations this
#: takes 1.7 ms, where an alternation of the exact keys took 7.4 ms.
_LONG_NAME = re.compile(r'name":"[^"]{61}')


def _parse(sql: str, path: str, source: SourceMap, findings: list[Finding]
           ) -> tuple[Any, str | None]:
    """The statements' JSON trees and the JSON text, or ``(None, "")`` after adding a
    finding for unparsable SQL."""
    if "\x00" in sql:
        line, column = source.position(source.char_to_byte(sql.index("\x00")))
        findings.append(Finding(
            "MG300", path, line, "NUL character in the file: PostgreSQL rejects it and the "
            "parser would silently stop reading there", "remove the NUL byte", column, "lint"))
        return None, ""
    text = sql
    try:
        return _parse_text(text)
    except pg_parser.ParseError as first_error:
        error = first_error
    blanked = _blank_meta_commands(sql, path, source, findings)
    if blanked is not None:
        text = blanked
        try:
            return _parse_text(text)
        except pg_parser.ParseError as second_error:
            error = second_error
    message = str(error.args[0]) if error.args else str(error)
    index = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 0
    line, column = SourceMap(text).position(SourceMap(text).char_to_byte(index))
    findings.append(Finding(
        "MG300", path, line,
        f"{message}: PostgreSQL rejects this file, so the migration fails at deploy time "
        "(and no other rule could check it)",
        "fix the SQL at this position; the parser is PostgreSQL's own grammar", column,
        "lint"))
    return None, ""


#: SQL is parsed in pieces of about this many characters. Parsed whole, a 50 MB data
#: migration made a 700 MB JSON tree and 6 GB of Python objects; a 1 MB piece peaks at
#: ~100 MB and is dropped before the next one is parsed.
_PIECE_CHARS = 1 << 20
_STATEMENT_END = re.compile(r";[ \t\r]*\n")


def _parse_text(text: str) -> tuple[Iterable[dict[str, Any]], str | None]:
    """The statements' JSON trees and the JSON text (None for a big file parsed in pieces,
    whose JSON is never held whole); raises the parser's ``ParseError`` for invalid SQL."""
    pieces = _pieces(text) if len(text) > 2 * _PIECE_CHARS else None
    if pieces is None:
        raw = pg_parser.parse_sql_json(text)
        result: list[dict[str, Any]] = json.loads(raw).get("stmts", [])
        return result, raw
    return _parse_pieces(text, pieces), None


def _pieces(text: str) -> list[tuple[int, int]] | None:
    """Cut points of ``text`` into pieces that each parse alone, or ``None``.

    A piece ends at a semicolon that ends a line, and only counts if it parses: a cut in a
    string, a comment or a ``BEGIN ATOMIC`` body cannot (the piece ends inside an open
    token or statement), so a piece that parses ends between top-level statements, where
    the whole text's parse also is. A piece that does not parse grows; ``None`` when it
    reaches the end of the text (the caller parses the text whole, for the exact error).
    """
    cuts: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        size = _PIECE_CHARS
        while True:
            match = _STATEMENT_END.search(text, start + size)
            end = match.start() + 1 if match else len(text)
            try:
                pg_parser.split(text[start:end], with_parser=True, only_slices=True)
                break
            except pg_parser.ParseError:
                if end == len(text):
                    return None
                size *= 2
        cuts.append((start, end))
        start = end
    return cuts


def _parse_pieces(text: str, cuts: list[tuple[int, int]]) -> Iterator[dict[str, Any]]:
    """Each piece's statements, locations shifted to byte offsets in the whole text."""
    offset = 0
    for start, end in cuts:
        piece = text[start:end]
        for raw in json.loads(pg_parser.parse_sql_json(piece)).get("stmts", []):
            raw["stmt_location"] = raw.get("stmt_location", 0) + offset
            yield raw
        offset += len(piece) if piece.isascii() else len(piece.encode("utf-8"))


def _blank_meta_commands(
    sql: str, path: str, source: SourceMap, findings: list[Finding]
) -> str | None:
    """Report psql meta-commands (a backslash starting a line outside any string) and
    return the text with them replaced by spaces of the same byte length, or ``None``."""
    starts: list[int] = []
    try:
        tokens = pg_parser.scan(sql)
    except pg_parser.ParseError:
        starts = [m.start(1) for m in re.finditer(_META_LINE, sql, re.MULTILINE)]
    else:
        for token in tokens:
            if token.name == "ASCII_92":
                line_start = sql.rfind("\n", 0, token.start) + 1
                if not sql[line_start:token.start].strip():
                    starts.append(token.start)
    if not starts:
        return None
    pieces: list[str] = []
    previous = 0
    for start in starts:
        end = sql.find("\n", start)
        end = len(sql) if end == -1 else end
        command = sql[start:end].split(maxsplit=1)[0] if sql[start:end].strip() else "\\"
        line, column = source.position(source.char_to_byte(start))
        findings.append(Finding(
            "MG390", path, line,
            f"psql meta-command {command} only works in psql: migration runners send the "
            "file to the server, which rejects it, so the migration fails at deploy time",
            f"replace {command} with plain SQL (for \\set use a literal or a SET of a "
            "custom setting; for \\i list the file as its own migration)", column, "lint"))
        pieces.append(sql[previous:start])
        pieces.append(" " * len(sql[start:end].encode("utf-8")))
        previous = end
    pieces.append(sql[previous:])
    return "".join(pieces)


def _sql_ignores(
    sql: str, path: str, source: SourceMap, statements: list[Statement]
) -> tuple[list[Ignore], list[Finding]]:
    """Ignore comments (``--`` comments found by PostgreSQL's scanner) and their targets:
    this tool's own, and squawk's (mapped to the codes covering the same rules)."""
    from migration_guard.lint.ignores import Directive, Ignore, parse_directive
    from migration_guard.lint.registry import RULES
    from migration_guard.lint.squawk import parse_squawk_comment

    try:
        tokens = pg_parser.scan(sql)
    except pg_parser.ParseError:
        return [], []
    ignores: list[Ignore] = []
    problems: list[Finding] = []
    every = tuple(code for code, rule in RULES.items()
                  if not rule.mandatory and rule.family != "ignores")
    for token in tokens:
        if token.name != "SQL_COMMENT":
            continue
        text = sql[token.start:token.end + 1]
        squawk = parse_squawk_comment(text, every) if "squawk-ignore" in text else None
        if squawk is None and not re.match(r"--\s*migration-guard\s*:", text):
            continue
        line, column = source.position(source.char_to_byte(token.start))
        if squawk is not None:
            codes, whole_file, unknown = squawk
            problems.extend(Finding(
                "MG393", path, line, f"squawk-ignore names unknown rule {name!r}, so the "
                "finding it was meant for is still reported",
                "use a squawk rule name (docs/rules.md maps each to its code)", column, "lint")
                for name in unknown)
            report_unused = False
        else:
            named, whole_file, found = parse_directive(Directive(text, line, column), path)
            codes = named or ()
            problems.extend(found)
            report_unused = True
        if not codes:
            continue
        target = None
        if not whole_file:
            following = [s for s in statements if (s.line, s.column) > (line, column)]
            if following:
                target = (following[0].line, following[0].column)
        ignores.append(Ignore(codes, line, column, whole_file, target, report_unused))
    return ignores, problems


__all__ = ["Analysis", "LintResult", "Statement", "analyse_bytes", "analyse_sql", "lint_bytes",
           "lint_sql"]
