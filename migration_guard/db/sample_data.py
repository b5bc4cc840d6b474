"""Generated sample rows for every user table, so later migrations meet real data.

Rows respect column types, NOT NULL, foreign keys (tables filled in dependency order,
referencing rows that exist) and uniqueness (every value depends on the row number).
Columns with a default, identity or generated value are left to the server. A row that
violates a CHECK (or any other constraint) is retried with other values and then
skipped: filling is best effort and never fails the check by itself.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Collection, Sequence
from typing import Any

import psycopg
from psycopg import sql

from migration_guard.db.catalog import Catalog, Column, Table, read_catalog, with_referenced

ATTEMPTS = 3

def fill_sample_rows(conn: psycopg.Connection[Any], *, rows: int = 3,
                     skip_tables: Collection[str] = (),
                     only_tables: Collection[str] | None = None) -> dict[str, int]:
    """Insert up to ``rows`` rows into every user table; return rows inserted per table.

    ``skip_tables`` (bare names) are left alone: a migration runner's bookkeeping table
    such as ``alembic_version`` must keep exactly the rows the runner wrote.
    ``only_tables`` (bare names), when given, limits the filling to those tables and the
    tables their foreign keys reference (transitively).
    """
    catalog = read_catalog(conn, only_tables=only_tables)
    wanted = None if only_tables is None else with_referenced(catalog, only_tables)
    inserted: dict[str, int] = {}
    for table in fill_order(catalog):
        if table.name in skip_tables or (wanted is not None and table.oid not in wanted):
            continue
        count = _fill_table(conn, catalog, table, rows)
        inserted[f"{table.schema}.{table.name}"] = count
    return inserted


def fill_order(catalog: Catalog) -> list[Table]:
    """Tables with referenced tables first; members of a cycle in catalog order."""
    depends: dict[int, set[int]] = {t.oid: set() for t in catalog.tables}
    for key in catalog.foreign_keys:
        if key.referenced != key.table and key.referenced in depends:
            depends[key.table].add(key.referenced)
    ordered: list[Table] = []
    done: set[int] = set()
    remaining = list(catalog.tables)
    while remaining:
        ready = [t for t in remaining if depends[t.oid] <= done] or remaining[:1]
        for table in ready:
            ordered.append(table)
            done.add(table.oid)
        remaining = [t for t in remaining if t.oid not in done]
    return ordered


def _fill_table(conn: psycopg.Connection[Any], catalog: Catalog, table: Table,
                rows: int) -> int:
    columns = catalog.columns.get(table.oid, [])
    references = _referenced_rows(conn, catalog, table)
    if rows >= BULK_ROWS and columns and _copy_rows(conn, table, columns, [
            _row_values(catalog, columns, references, row, 0) for row in range(rows)]):
        return rows
    inserted = 0
    for row in range(rows):
        for attempt in range(ATTEMPTS):
            values = _row_values(catalog, columns, references, row, attempt)
            if values is not None and _insert(conn, table, columns, values):
                inserted += 1
                break
    return inserted


def _referenced_rows(conn: psycopg.Connection[Any], catalog: Catalog,
                     table: Table) -> dict[int, list[Any]]:
    """For each FK column (attnum), candidate values taken from the referenced table."""
    by_oid = {t.oid: t for t in catalog.tables}
    values: dict[int, list[Any]] = {}
    for key in catalog.foreign_keys:
        if key.table != table.oid:
            continue
        if key.referenced not in by_oid:
            values.update({attnum: [] for attnum in key.columns})
            continue
        ref = by_oid[key.referenced]
        names = {c.attnum: c.name for c in _all_columns(conn, key.referenced)}
        query = sql.SQL("SELECT {} FROM {}.{} LIMIT 50").format(
            sql.SQL(", ").join(sql.Identifier(names[n]) for n in key.referenced_columns),
            sql.Identifier(ref.schema), sql.Identifier(ref.name))
        found = conn.execute(query).fetchall()
        for position, attnum in enumerate(key.columns):
            values[attnum] = [r[position] for r in found]
    return values


def _all_columns(conn: psycopg.Connection[Any], oid: int) -> list[Column]:
    rows = conn.execute(
        "SELECT attnum, attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
        "AND NOT attisdropped", [oid]).fetchall()
    return [Column(n, name, "", False, "", "", "", -1, "", 0, 0, 0) for n, name in rows]


def _row_values(catalog: Catalog, columns: Sequence[Column], references: dict[int, list[Any]],
                row: int, attempt: int) -> list[Any] | None:
    values: list[Any] = []
    for column in columns:
        if column.attnum in references:
            candidates = references[column.attnum]
            if not candidates:
                if column.not_null:
                    return None
                values.append(None)
                continue
            values.append(candidates[row % len(candidates)])
            continue
        value = generate_value(catalog, column, row, attempt)
        if value is None and column.not_null:
            return None
        values.append(value)
    return values


#: From this many rows per table (the trace's ``trace_rows``), the rows go in with one COPY
#: when every generated row is complete; row by row (~1 ms each) only if that fails.
BULK_ROWS = 100


def _copy_rows(conn: psycopg.Connection[Any], table: Table, columns: Sequence[Column],
               rows: list[list[Any] | None]) -> bool:
    if any(values is None for values in rows):
        return False
    query = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
        sql.Identifier(table.schema), sql.Identifier(table.name),
        sql.SQL(", ").join(sql.Identifier(c.name) for c in columns))
    try:
        with conn.transaction(), conn.cursor().copy(query) as copy:
            for values in rows:
                assert values is not None
                copy.write_row([None if v is None else _as_text(v) for v in values])
    except psycopg.Error:
        return False  # a constraint the generated values break: row by row instead
    return True


def _insert(conn: psycopg.Connection[Any], table: Table, columns: Sequence[Column],
            values: list[Any]) -> bool:
    target = sql.SQL("{}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.name))
    if columns:
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            target, sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
            sql.SQL(", ").join(sql.SQL("%s::{}").format(sql.SQL(c.type_sql)) for c in columns))
    else:
        query = sql.SQL("INSERT INTO {} DEFAULT VALUES").format(target)
    params = [None if v is None else _as_text(v) for v in values]
    try:
        with conn.transaction():
            conn.execute(query, params)
    except psycopg.Error:
        return False
    return True


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def generate_value(catalog: Catalog, column: Column, row: int, attempt: int) -> str | None:
    """A text literal for ``column`` in row ``row``; distinct per row, varied per attempt."""
    n = row + 1 + attempt * 1000
    if column.category == "A":
        element = _scalar(catalog, column.elem_name, column.elem_oid, column.name, -1, n)
        return None if element is None else "{" + _array_element(element) + "}"
    enum_oid = column.base_oid or column.type_oid
    if enum_oid in catalog.enums:
        labels = catalog.enums[enum_oid]
        return labels[(row + attempt) % len(labels)]
    return _scalar(catalog, column.base_name, 0, column.name, column.typmod, n)


def _array_element(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scalar(catalog: Catalog, type_name: str, type_oid: int, column_name: str, typmod: int,
            n: int) -> str | None:
    if type_oid in catalog.enums:
        labels = catalog.enums[type_oid]
        return labels[n % len(labels)]
    simple = _SIMPLE.get(type_name)
    if simple is not None:
        return simple(n)
    if type_name in ("text", "varchar", "bpchar", "citext", "name"):
        text = f"{column_name}-{n}"
        width = typmod - 4 if typmod > 4 else 0
        return text[-width:] if width else text
    return None


_SIMPLE: dict[str, Callable[[int], str]] = {
    "int2": str, "int4": str, "int8": str, "oid": str,
    "numeric": lambda n: f"{n}.5", "float4": lambda n: f"{n}.5", "float8": lambda n: f"{n}.5",
    "money": lambda n: f"{n}.25",
    "bool": lambda n: "true" if n % 2 else "false",
    "date": lambda n: (datetime.date(2024, 1, 1) + datetime.timedelta(days=n)).isoformat(),
    "timestamp": lambda n: f"2024-01-{1 + n % 28:02d} 12:{n % 60:02d}:{n // 60 % 60:02d}",
    "timestamptz": lambda n: f"2024-01-{1 + n % 28:02d} 12:{n % 60:02d}:{n // 60 % 60:02d}+00",
    "time": lambda n: f"12:{n % 60:02d}:{n // 60 % 60:02d}",
    "timetz": lambda n: f"12:{n % 60:02d}:{n // 60 % 60:02d}+00",
    "interval": lambda n: f"{n} minutes",
    "uuid": lambda n: str(uuid.UUID(int=n)),
    "json": lambda n: f'{{"n": {n}}}', "jsonb": lambda n: f'{{"n": {n}}}',
    "bytea": lambda n: f"\\x{n:04x}",
    "inet": lambda n: f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
    "cidr": lambda n: f"10.{n // 256 % 256}.{n % 256}.0/24",
    "macaddr": lambda n: f"08:00:2b:00:{n // 256 % 256:02x}:{n % 256:02x}",
    "bit": lambda n: "1", "varbit": lambda n: f"{n:b}",
    "xml": lambda n: f"<n>{n}</n>",
    "tsvector": lambda n: f"word{n}",
}
