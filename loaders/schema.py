"""The raw schema: one table per landing source plus quarantine, manifest and GX results."""

from __future__ import annotations

import duckdb

from expectations.spec import SOURCES, SourceSpec, load_spec

RAW_SCHEMA = "raw"
QUARANTINE = "_quarantine"
MANIFEST = "_load_manifest"
VALIDATION = "_validation_result"

SQL_TYPES = {
    "varchar": "varchar",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
    "double": "double",
    "integer": "bigint",
}
LOAD_COLUMNS = (
    ("_extra", "varchar"),  # JSON text of columns the contract does not know; null if none
    ("_file", "varchar"),  # path relative to the landing dir
    ("_row", "bigint"),  # 1-based data row number in the file
    ("_loaded_at", "timestamp"),  # UTC
    ("_batch_id", "varchar"),
)
META_TABLES = {
    QUARANTINE: (
        ("source", "varchar"),
        ("file", "varchar"),
        ("row", "bigint"),
        ("reason", "varchar"),
        ("record", "varchar"),  # JSON of the row's original string values
        ("batch_id", "varchar"),
        ("quarantined_at", "timestamp"),
    ),
    MANIFEST: (
        ("batch_id", "varchar"),
        ("source", "varchar"),
        ("file", "varchar"),
        ("sha256", "varchar"),
        ("size_bytes", "bigint"),
        ("rows_read", "bigint"),
        ("rows_loaded", "bigint"),
        ("rows_quarantined", "bigint"),
        ("status", "varchar"),
        ("message", "varchar"),
        ("loaded_at", "timestamp"),
    ),
    VALIDATION: (
        ("batch_id", "varchar"),
        ("source", "varchar"),
        ("file", "varchar"),
        ("expectation_type", "varchar"),
        ("column_name", "varchar"),
        ("success", "boolean"),
        ("unexpected_count", "bigint"),
        ("unexpected_percent", "double"),
    ),
}


def quote(identifier: str) -> str:
    """A SQL identifier, double-quoted (column names such as ``key`` or ``value`` are fine)."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def raw_table(name: str) -> str:
    """``raw."<name>"``: a source's table or one of the load tables (``_quarantine``, ...)."""
    return f"{RAW_SCHEMA}.{quote(name)}"


def raw_columns(spec: SourceSpec) -> list[tuple[str, str]]:
    """(name, SQL type) of ``raw.<source>``: contract columns, then load metadata."""
    return [(column.name, SQL_TYPES[column.type]) for column in spec.columns] + list(LOAD_COLUMNS)


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    """The column names of ``schema.table`` in the connection's database (empty: no table)."""
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {str(row[0]) for row in rows}


def _ensure_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]]
) -> None:
    table = raw_table(name)
    body = ", ".join(f"{quote(column)} {sql_type}" for column, sql_type in columns)
    con.execute(f"create table if not exists {table} ({body})")
    existing = table_columns(con, RAW_SCHEMA, name)
    for column, sql_type in columns:  # a column added to the contract since the table was made
        if column not in existing:
            con.execute(f"alter table {table} add column {quote(column)} {sql_type}")


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and its tables if missing; add columns new in the contract."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for name, columns in META_TABLES.items():
        _ensure_table(con, name, list(columns))
    for source in SOURCES:
        _ensure_table(con, source, raw_columns(load_spec(source)))
