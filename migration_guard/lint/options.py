"""Everything a project can configure about the SQL lint, in one frozen record."""

from __future__ import annotations

from migration_guard.typing_lite import NamedTuple

DEFAULT_INDEX_NAME_PATTERN = r"^[a-z][a-z0-9_]*_(idx|key|pkey)$"
DEFAULT_COLUMN_NAME_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
#: PostgreSQL's own name for an unnamed foreign key: ``orders_user_id_fkey``.
DEFAULT_FOREIGN_KEY_NAME_PATTERN = "{table}_{columns}_fkey"


class LintOptions(NamedTuple):
    """Lint configuration; every field has a working default. Immutable and hashable.

    A NamedTuple rather than a frozen dataclass: importing :mod:`dataclasses` costs ~7 ms
    of the 80 ms budget a commit-time lint has. ``LintOptions._fields`` and
    ``LintOptions._field_defaults`` list the keys; ``options._replace(...)`` derives one.

    ``select`` empty means "the rules enabled by default"; a non-empty ``select`` replaces
    that set (``"all"`` selects every rule). ``extend_select`` adds rules (typically the
    opt-in conventions) to whatever ``select`` chose; ``ignore`` removes rules last. Each
    entry is a code (``MG301``) or a name (``index-without-concurrently``).
    """

    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    #: Major version of the PostgreSQL server the migrations run on (rules whose cost
    #: differs by version, e.g. ADD COLUMN ... DEFAULT before 11, use it).
    pg_version: int = 15
    #: The runner wraps each file in a transaction (Flyway, golang-migrate with
    #: ``x-multi-statement``, Alembic's ``transactional_ddl``...).
    in_transaction: bool = False
    #: Report ``ignore[...]`` comments that suppressed nothing (MG395).
    report_unused_ignores: bool = False
    #: Column names every new table must have (MG371).
    timestamp_columns: tuple[str, ...] = ("created_at", "updated_at")
    #: Column every new table must have for multi-tenant isolation (MG372).
    tenant_column: str = "tenant_id"
    #: Tables exempt from the tenant column rule (bare or schema-qualified names).
    tenant_exempt_tables: tuple[str, ...] = ()
    #: Regular expression (Python ``re``, matched with ``search``) index names must match
    #: (MG376). The default is PostgreSQL's own naming: ``users_email_idx``.
    index_name_pattern: str = DEFAULT_INDEX_NAME_PATTERN
    #: Whether MG375 also requires table names to be plural (ending in ``s``).
    require_plural_table_names: bool = True
    #: Regular expression (matched with ``search``) new column names must match (MG379).
    column_name_pattern: str = DEFAULT_COLUMN_NAME_PATTERN
    #: The name every foreign key must have (MG380): ``{table}`` and ``{columns}`` (the
    #: referencing columns joined by ``_``) are filled in.
    foreign_key_name_pattern: str = DEFAULT_FOREIGN_KEY_NAME_PATTERN
    #: Per-code severity overrides: (code or name, "error" | "warning") pairs.
    severity: tuple[tuple[str, str], ...] = ()
    #: Per-code table exemptions: (code or name, tables) pairs; a finding on a statement
    #: whose table is listed (bare or schema-qualified) is not reported.
    exempt_tables: tuple[tuple[str, tuple[str, ...]], ...] = ()
