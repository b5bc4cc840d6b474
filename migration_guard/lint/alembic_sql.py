"""Lint one Alembic revision as the SQL it emits in offline mode, mapped back to the file.

The revision is rendered with ``alembic.command.upgrade(cfg, "down:rev", sql=True)`` (the
public API; output captured through ``Config(output_buffer=...)``), linted as SQL, and
each finding is moved to the ``op.*`` call that emitted its statement: calls are matched
to statements in order, by which statement kinds each operation can produce. Alembic,
SQLAlchemy and the project's ``env.py`` are imported only when this runs.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator

from migration_guard.errors import GuardError
from migration_guard.findings import Finding, sort_key
from migration_guard.lint.analysis import LintResult, Statement
from migration_guard.lint.ignores import apply_ignores, python_ignores
from migration_guard.lint.options import LintOptions
from migration_guard.lint.registry import enabled_codes
from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import ast
    from pathlib import Path

    from alembic.config import Config as AlembicConfig

_ALTER = frozenset({"AlterTableStmt", "CommentStmt"})
#: Statement kinds each operation can emit; operations not listed may emit anything.
_PRODUCES: dict[str, frozenset[str]] = {
    "create_table": frozenset({"CreateStmt", "IndexStmt", "CommentStmt"}),
    "drop_table": frozenset({"DropStmt"}),
    "create_index": frozenset({"IndexStmt"}),
    "drop_index": frozenset({"DropStmt"}),
    "rename_table": frozenset({"RenameStmt"}),
    "create_table_comment": frozenset({"CommentStmt"}),
    "drop_table_comment": frozenset({"CommentStmt"}),
    "bulk_insert": frozenset({"InsertStmt"}),
    **{name: _ALTER for name in (
        "add_column", "drop_column", "alter_column", "create_foreign_key",
        "create_unique_constraint", "create_check_constraint", "create_primary_key",
        "drop_constraint", "create_exclude_constraint")},
}
#: ``op`` helpers that emit no SQL.
_NOT_OPERATIONS = frozenset({"f", "get_context", "get_bind", "inline_literal",
                             "batch_alter_table", "implementation_for", "invoke"})


class OpCall(NamedTuple):
    """One ``op.<name>(...)`` call in ``upgrade()``: where, what, how many statements."""

    line: int
    column: int
    name: str
    #: Statements it emits when known (``op.execute`` of a literal string), else ``None``.
    statements: int | None


OFFLINE_URL = "postgresql://offline@migration-guard-offline.invalid:1/offline"
_CONNECTION_VARIABLES = ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI", "PGHOST", "PGPORT",
                         "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSERVICE")
_HINT = ("make env.py support offline mode (context.is_offline_mode(): configure with a URL, "
         "no connection); check it with: alembic upgrade <down>:<rev> --sql")


@contextlib.contextmanager
def _offline_environment(env_var: str) -> Iterator[None]:
    """Point the usual connection variables, and the one env.py is configured to read, at
    nowhere while env.py runs; restore them."""
    names = (*_CONNECTION_VARIABLES, env_var)
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            os.environ.pop(name, None)
        os.environ["DATABASE_URL"] = OFFLINE_URL
        os.environ[env_var] = OFFLINE_URL
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def in_project(directory: Path) -> Iterator[None]:
    """Run as ``alembic`` runs in ``directory`` (the one holding alembic.ini): a relative
    ``script_location`` and ``prepend_sys_path`` resolve there, whatever this process's
    working directory. Afterwards the directory, ``sys.path`` and the modules imported
    from ``directory`` are as before, so a second project's modules of the same name are
    imported afresh."""
    cwd, path, modules = os.getcwd(), list(sys.path), set(sys.modules)
    root = os.path.realpath(directory) + os.sep
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            filename = getattr(sys.modules[name], "__file__", None)
            if isinstance(filename, str) and os.path.realpath(filename).startswith(root):
                del sys.modules[name]


def render_revision_sql(config_file: str | Path, revision: str, *,
                        down: tuple[str, ...] | None = None,
                        env_var: str = "DATABASE_URL",
                        script_location: str | Path | None = None) -> str:
    """The SQL ``alembic upgrade <down>:<revision> --sql`` prints for one revision.

    ``down``: the revision's parents when the caller read them from the file (the script
    directory may then hold only this revision and stand-ins for its parents); None: look
    them up in the script directory. Raises :class:`GuardError` when Alembic cannot render
    it (unknown revision, an ``env.py`` that needs a database in offline mode, an
    exception in the revision).
    """
    from alembic import command
    from alembic.config import Config

    buffer = io.StringIO()
    config = Config(str(config_file), output_buffer=buffer)
    # env.py is user code and may ignore offline mode: whatever URL it reaches for must
    # lead nowhere, so rendering can never touch a real database.
    config.set_main_option("sqlalchemy.url", OFFLINE_URL)
    if script_location is not None:  # as detection resolved it (alembic.ini may not say)
        config.set_main_option("script_location", str(script_location))
    try:
        if down is None:
            down = _parents(config, revision)
        if len(down) > 1:
            raise GuardError(
                f"alembic revision {revision} is a merge of {', '.join(down)}; rendering "
                "one merge revision offline is not supported",
                "keep schema operations out of merge revisions")
        with _offline_environment(env_var):
            command.upgrade(config, f"{down[0] if down else 'base'}:{revision}", sql=True)
    except GuardError:
        raise
    except Exception as error:  # env.py and revisions are user code: any error is possible
        raise GuardError(
            f"alembic could not render revision {revision} as SQL: "
            f"{type(error).__name__}: {error}", _HINT) from error
    return buffer.getvalue()


def _parents(config: AlembicConfig, revision: str) -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(config).get_revision(revision)
    if script is None:
        raise GuardError(f"alembic revision {revision} not found", _HINT)
    down = script.down_revision
    if isinstance(down, (tuple, list)):
        return tuple(down)
    return (down,) if down else ()


def find_op_calls(source: str) -> list[OpCall]:
    """``op.*`` calls (and ``batch_op.*`` inside ``batch_alter_table``) in ``upgrade()``,
    in source order. A file that does not parse yields no calls."""
    import ast  # here: a lint whose rendered SQL and findings are kept never parses Python

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    upgrade = next((node for node in tree.body if isinstance(node, ast.FunctionDef)
                    and node.name == "upgrade"), None)
    if upgrade is None:
        return []
    receivers = {"op"}
    for node in ast.walk(upgrade):
        if isinstance(node, ast.With):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    receivers.add(item.optional_vars.id)
    calls: list[OpCall] = []
    for node in ast.walk(upgrade):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id in receivers
                and node.func.attr not in _NOT_OPERATIONS):
            count = _literal_statement_count(node) if node.func.attr == "execute" else None
            calls.append(OpCall(node.lineno, node.col_offset + 1, node.func.attr, count))
    calls.sort()
    return calls


def _literal_statement_count(call: ast.Call) -> int:
    import ast  # loaded by find_op_calls, its caller

    argument: ast.expr | None = call.args[0] if call.args else None
    if isinstance(argument, ast.Call) and argument.args:  # sa.text("...")
        argument = argument.args[0]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        from pglast import parser as pg_parser

        try:
            return max(1, len(pg_parser.split(argument.value)))
        except pg_parser.ParseError:
            return 1
    return 1


def _can(call: OpCall, statement: Statement) -> bool:
    kinds = _PRODUCES.get(call.name)
    return kinds is None or statement.node_type in kinds


def map_statements(statements: list[Statement], calls: list[OpCall]) -> list[OpCall | None]:
    """The op call that emitted each statement (``None``: unknown), matched in order."""
    mapped: list[OpCall | None] = []
    index, used = 0, 0
    for statement in statements:
        if statement.node_type == "TransactionStmt" or not calls:
            mapped.append(None)
            continue
        choice = _choose(statement, calls, index, used)
        if choice is None:
            mapped.append(None)
            continue
        if choice != index:
            index, used = choice, 0
        used += 1
        mapped.append(calls[index])
    return mapped


def _choose(statement: Statement, calls: list[OpCall], index: int, used: int) -> int | None:
    current = calls[index] if index < len(calls) else None
    current_fits = (current is not None and _can(current, statement)
                    and (current.statements is None or used < current.statements))
    if current_fits and used == 0:
        return index
    if index + 1 < len(calls) and _can(calls[index + 1], statement):
        return index + 1
    if current_fits:
        return index
    return next((j for j in range(index + 2, len(calls)) if _can(calls[j], statement)), None)


def lint_alembic_revision(
    config_file: str | Path,
    revision: str,
    path: str,
    source: str,
    *,
    options: LintOptions,
    created_tables: set[str] | frozenset[str] | None = None,
    version_table: str = "alembic_version",
    script_location: str | Path | None = None,
) -> LintResult:
    """Lint one revision of a project on disk: render it offline (as ``alembic`` run in
    the directory of ``config_file``), lint the SQL, map findings to ``path``."""
    from pathlib import Path  # with alembic, rendering imports it anyway

    with in_project(Path(config_file).parent):
        sql = render_revision_sql(config_file, revision)
    return lint_revision_sql(sql, path, source, options=options,
                             created_tables=created_tables, version_table=version_table)


def lint_revision_sql(
    sql: str,
    path: str,
    source: str,
    *,
    options: LintOptions,
    created_tables: set[str] | frozenset[str] | None = None,
    version_table: str = "alembic_version",
) -> LintResult:
    """Lint the SQL one revision renders, findings mapped to ``path``.

    ``source`` is the revision file's text (the version being checked), used to find the
    ``op.*`` calls and the ``# migration-guard: ignore[...]`` comments. Findings land on
    the line of the call that emitted their statement, else on line 1. Statements on the
    version table are Alembic's bookkeeping and are not linted.
    """
    from migration_guard.lint.engine import analyse_sql

    analysis = analyse_sql(sql, path, options=options, created_tables=created_tables)
    starts = {(s.line, s.column): i for i, s in enumerate(analysis.statements)}
    mapped = map_statements(analysis.statements, find_op_calls(source))
    findings: list[Finding] = []
    for finding in analysis.findings:
        index = starts.get((finding.line or 0, finding.column or 0))
        statement = analysis.statements[index] if index is not None else None
        if statement is not None and statement.table == version_table:
            continue
        call = mapped[index] if index is not None else None
        findings.append(finding._replace(line=call.line if call else 1,
                                         column=call.column if call else None))
    ignores, problems = python_ignores(source, path)
    enabled = enabled_codes(options)
    findings = apply_ignores(findings, ignores, path=path, enabled=enabled,
                             report_unused=options.report_unused_ignores)
    findings.extend(problem for problem in problems if problem.code in enabled)
    findings.sort(key=sort_key)
    return LintResult(findings, analysis.created_tables - {version_table})
