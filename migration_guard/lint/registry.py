"""The lint's finding codes (MG3xx) and per-rule metadata: family, default, options.

Codes are stable forever. ``CODES`` is what :func:`migration_guard.report.codebook.all_codes` joins;
``RULES`` adds what only the lint needs (whether a rule runs by default, which
:class:`~migration_guard.lint.options.LintOptions` fields tune it).
"""

from __future__ import annotations

from collections.abc import Iterable

from migration_guard.codes import Code
from migration_guard.errors import GuardError
from migration_guard.findings import SEVERITIES
from migration_guard.lint.options import LintOptions
from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

    from migration_guard.config import Config


class Rule(NamedTuple):
    code: str
    name: str
    family: str
    summary: str
    default: bool
    options: tuple[str, ...] = ()
    #: Cannot be deselected: the file could not be checked at all.
    mandatory: bool = False
    #: Default severity: "error" fails the run, "warning" is shown and exits 0 (config's
    #: ``lint.severity`` changes it per code).
    severity: str = "error"


_ROWS: list[Rule] = [
    # input: the file itself
    Rule("MG300", "sql-syntax-error", "input",
         "the file is not valid PostgreSQL SQL", True, mandatory=True),
    Rule("MG390", "psql-meta-command", "input",
         "a psql meta-command (\\set, \\i, \\c...) in a migration file", True),
    Rule("MG391", "file-not-utf8", "input", "the file is not valid UTF-8", True, mandatory=True),
    # locking and rewrites
    Rule("MG301", "index-without-concurrently", "locking",
         "an index is built without CONCURRENTLY on an existing table", True),
    Rule("MG302", "constraint-without-not-valid", "locking",
         "a foreign key or CHECK constraint is added without NOT VALID", True,
         ("in_transaction",)),
    Rule("MG303", "set-not-null", "locking",
         "SET NOT NULL on an existing column scans the table under an exclusive lock", True),
    Rule("MG304", "alter-column-type", "locking",
         "ALTER COLUMN TYPE rewrites the table under an exclusive lock", True),
    Rule("MG305", "add-column-volatile-default", "locking",
         "a column is added with a volatile default or a STORED generated expression: "
         "a table rewrite", True, ("pg_version",)),
    Rule("MG306", "add-serial-or-identity-column", "locking",
         "a serial or identity column is added to an existing table", True),
    Rule("MG307", "unique-without-index", "locking",
         "a unique or primary key constraint is added without a prebuilt index", True),
    Rule("MG308", "vacuum-full-or-cluster", "locking",
         "VACUUM FULL or CLUSTER rewrites a table under an exclusive lock", True),
    Rule("MG309", "missing-lock-timeout", "locking",
         "locking DDL runs with no SET lock_timeout earlier in the file", True,
         severity="warning"),
    Rule("MG310", "drop-index-without-concurrently", "locking",
         "an index of an existing table is dropped without CONCURRENTLY", True),
    Rule("MG311", "reindex-without-concurrently", "locking",
         "REINDEX without CONCURRENTLY blocks writes to the table", True),
    Rule("MG312", "detach-partition-without-concurrently", "locking",
         "DETACH PARTITION without CONCURRENTLY locks the partitioned table (PostgreSQL 14+)",
         True, ("pg_version",)),
    Rule("MG313", "missing-statement-timeout", "locking",
         "locking DDL runs with no SET statement_timeout earlier in the file", True,
         severity="warning"),
    Rule("MG314", "domain-check-constraint", "locking",
         "a domain gets a CHECK constraint (CREATE DOMAIN, or ALTER DOMAIN without NOT VALID)",
         True),
    # destructive and backward-incompatible
    Rule("MG320", "drop-table", "destructive", "a table is dropped", True),
    Rule("MG321", "drop-column", "destructive", "a column is dropped", True),
    Rule("MG322", "drop-schema", "destructive", "a schema is dropped", True),
    Rule("MG323", "drop-database", "destructive", "a database is dropped", True),
    Rule("MG324", "rename-table", "destructive", "a table is renamed", True),
    Rule("MG325", "rename-column", "destructive", "a column is renamed", True),
    Rule("MG326", "truncate", "destructive", "a table is truncated (without CASCADE)", True),
    Rule("MG327", "delete-without-where", "destructive", "DELETE without a WHERE clause", True),
    Rule("MG328", "update-without-where", "destructive", "UPDATE without a WHERE clause", True),
    Rule("MG329", "drop-not-null", "destructive",
         "DROP NOT NULL lets NULLs into a column running code reads as non-null", True),
    Rule("MG330", "drop-default", "destructive",
         "DROP DEFAULT breaks inserts by code that relies on the default", True),
    Rule("MG331", "add-column-required", "destructive",
         "a NOT NULL column without a default is added to an existing table", True),
    Rule("MG332", "truncate-cascade", "destructive",
         "TRUNCATE ... CASCADE also empties every table with a foreign key to it", True),
    # transactions
    Rule("MG340", "concurrently-in-transaction", "transactions",
         "a CONCURRENTLY operation inside a transaction block", True, ("in_transaction",)),
    Rule("MG341", "nested-begin", "transactions",
         "BEGIN inside an already open transaction block", True, ("in_transaction",)),
    Rule("MG342", "begin-without-commit", "transactions",
         "a transaction block is opened and never committed", True),
    Rule("MG343", "commit-without-begin", "transactions",
         "COMMIT or ROLLBACK with no BEGIN of this file open", True, ("in_transaction",)),
    # types
    Rule("MG350", "prefer-text", "types", "varchar(n) instead of text", True,
         severity="warning"),
    Rule("MG351", "prefer-bigint-keys", "types",
         "a primary or foreign key column is int or smallint instead of bigint", True,
         severity="warning"),
    Rule("MG352", "prefer-timestamptz", "types",
         "timestamp without time zone instead of timestamptz", True, severity="warning"),
    Rule("MG353", "prefer-identity", "types", "serial instead of an identity column", True,
         severity="warning"),
    Rule("MG354", "char-type", "types", "char(n) (blank-padded) instead of text", True,
         severity="warning"),
    Rule("MG355", "prefer-bigint", "types",
         "any column is int or smallint instead of bigint", False, severity="warning"),
    # robustness (opt-in)
    Rule("MG360", "ddl-not-idempotent", "robustness",
         "CREATE without IF NOT EXISTS or DROP without IF EXISTS", False),
    # correctness: the statement fails, or does something other than it reads
    Rule("MG361", "identifier-too-long", "correctness",
         "a name longer than 63 bytes, which PostgreSQL silently truncates", True),
    Rule("MG362", "duplicate-column-assignment", "correctness",
         "an UPDATE or INSERT assigns the same column twice", True),
    Rule("MG363", "rls-without-policy", "correctness",
         "row level security is enabled on a table with no policy created in the file", True,
         severity="warning"),
    Rule("MG364", "enum-value-ordering", "correctness",
         "ALTER TYPE ... ADD VALUE without BEFORE or AFTER", False, severity="warning"),
    # conventions (opt-in)
    Rule("MG370", "table-without-primary-key", "conventions",
         "a new table has no primary key", False),
    Rule("MG371", "table-without-timestamps", "conventions",
         "a new table lacks the configured timestamp columns", False, ("timestamp_columns",)),
    Rule("MG372", "table-without-tenant-column", "conventions",
         "a new table lacks the configured tenant column", False,
         ("tenant_column", "tenant_exempt_tables")),
    Rule("MG373", "table-without-rls", "conventions",
         "a new table does not enable row level security in the same file", False),
    Rule("MG374", "foreign-key-not-indexed", "conventions",
         "a foreign key's columns have no index created in the same file", False),
    Rule("MG375", "table-name-style", "conventions",
         "a new table's name is not snake_case (and plural)", False,
         ("require_plural_table_names",)),
    Rule("MG376", "index-name-pattern", "conventions",
         "an index name does not match the configured pattern", False, ("index_name_pattern",)),
    Rule("MG377", "table-without-comment", "conventions",
         "a new table has no COMMENT ON TABLE in the same file", False),
    Rule("MG378", "table-without-schema", "conventions",
         "a table is named without its schema", False),
    Rule("MG379", "column-name-style", "conventions",
         "a new column's name does not match the configured pattern (snake_case)", False,
         ("column_name_pattern",)),
    Rule("MG380", "foreign-key-name-pattern", "conventions",
         "a foreign key's name does not match the configured pattern", False,
         ("foreign_key_name_pattern",)),
    Rule("MG381", "foreign-key-without-on-delete", "conventions",
         "a foreign key says nothing about ON DELETE", False),
    # the ignore comments themselves
    Rule("MG392", "ignore-malformed", "ignores",
         "a migration-guard comment names no code or is not a known directive", True),
    Rule("MG393", "ignore-unknown-code", "ignores",
         "an ignore comment names a code that does not exist", True),
    Rule("MG394", "ignore-without-reason", "ignores", "an ignore comment gives no reason", True),
    Rule("MG395", "ignore-unused", "ignores",
         "an ignore comment suppressed nothing", True, ("report_unused_ignores",)),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in sorted(_ROWS)}
CODES: dict[str, Code] = {
    rule.code: Code(rule.code, rule.name, "lint", rule.summary, rule.severity)
    for rule in RULES.values()
}
_BY_NAME: dict[str, str] = {rule.name: rule.code for rule in RULES.values()}


def code_for(token: str) -> str | None:
    """The code a config or ignore entry names (``MG301`` or its name), or ``None``."""
    upper = token.strip().upper()
    if upper in RULES:
        return upper
    return _BY_NAME.get(token.strip().lower())


def _codes_for(entries: tuple[str, ...], key: str) -> set[str]:
    codes: set[str] = set()
    for entry in entries:
        if entry.strip().lower() == "all":
            codes.update(RULES)
            continue
        code = code_for(entry)
        if code is None:
            raise GuardError(
                f"lint option {key} names unknown rule {entry!r}",
                "use a code (MG301) or a name (index-without-concurrently) from docs/rules.md",
            )
        codes.add(code)
    return codes


def options_from(config: Config, own: Iterable[tuple[str, Any]] = ()) -> LintOptions:
    """The config's ``lint`` section, overridden by a project's own (``own``); the server
    major is ``postgres.version`` unless a ``lint`` section names ``pg_version``.

    Raises :class:`GuardError` naming the config file for an unknown rule, severity or
    exemption.
    """
    shared = {**dict(config.lint),
              "pg_version": config.pg_version or LintOptions._field_defaults["pg_version"]}
    options = LintOptions()._replace(**{**shared, **dict(own)})
    try:
        enabled_codes(options)
        severities(options)
        exempt_tables(options)
    except GuardError as error:
        raise GuardError(f"{config.source}: lint: {error.message}", error.hint) from None
    return options


def severities(options: LintOptions) -> dict[str, str]:
    """Every code's severity: its default, overridden by ``options.severity``."""
    chosen = {code: rule.severity for code, rule in RULES.items()}
    for entry, level in options.severity:
        code = code_for(entry)
        if code is None:
            raise GuardError(
                f"lint option severity names unknown rule {entry!r}",
                "use a code (MG301) or a name (index-without-concurrently) from docs/rules.md")
        if level not in SEVERITIES:
            raise GuardError(f"lint option severity of {entry} is {level!r}",
                             f"use one of: {', '.join(SEVERITIES)}")
        chosen[code] = level
    return chosen


def exempt_tables(options: LintOptions) -> dict[str, frozenset[str]]:
    """Per code, the tables (normalized, ``public.`` dropped) its findings skip."""
    exempt: dict[str, set[str]] = {}
    for entry, tables in options.exempt_tables:
        code = code_for(entry)
        if code is None:
            raise GuardError(
                f"lint option exempt_tables names unknown rule {entry!r}",
                "use a code (MG371) or a name (table-without-timestamps) from docs/rules.md")
        exempt.setdefault(code, set()).update(
            name.removeprefix("public.") for name in tables)
    return {code: frozenset(tables) for code, tables in exempt.items()}


def enabled_codes(options: LintOptions) -> frozenset[str]:
    """The codes a lint run reports, from ``select``/``extend_select``/``ignore``.

    MG300 and MG391 are always on; MG392-MG394 are on unless ignored whatever ``select``
    says; MG395 is on exactly when ``report_unused_ignores`` is (and it is not ignored).

    Raises :class:`GuardError` for an unknown entry or an attempt to disable a mandatory
    code (a file that cannot be parsed must never pass silently).
    """
    if options.select:
        chosen = _codes_for(options.select, "select")
    else:
        chosen = {code for code, rule in RULES.items() if rule.default}
    chosen |= _codes_for(options.extend_select, "extend_select")
    ignored = _codes_for(options.ignore, "ignore")
    for code in sorted(ignored):
        if RULES[code].mandatory and "all" not in (e.strip().lower() for e in options.ignore):
            raise GuardError(
                f"lint option ignore cannot disable {code} ({RULES[code].name})",
                f"remove {code} from ignore: a file that cannot be read must not pass",
            )
    # The ignore comments' own checks follow the file whatever rules are selected;
    # MG395 is switched by report_unused_ignores.
    chosen |= {"MG392", "MG393", "MG394"}
    chosen.discard("MG395")
    if options.report_unused_ignores:
        chosen.add("MG395")
    chosen -= ignored
    chosen |= {code for code, rule in RULES.items() if rule.mandatory}
    return frozenset(chosen)
