"""The analysts' way into the published mart: masked views and a read-only connection helper.

The published file (``<data-dir>/published/campaign_mart.duckdb``) holds the mart tables in
their schemas (``core``, ``campaign``, ``decisioning``, ``reporting``, ``config``) and, in the
``analyst`` schema, one view per mart table with the personal data masked: the columns named in
settings.yml ``reporting.pii_columns`` are hashed (SHA-256 of the value: still joinable and
countable, not readable) or redacted (null). :func:`connect` opens the file read-only with the
``analyst`` schema first on the search path, so unqualified names resolve to the masked views;
``connect(unmasked=True)`` puts the mart schemas first instead, for the few who may see
personal data. The views are plain DuckDB views in the file: ``duckdb -readonly <file>`` then
``select * from analyst.dim_customer`` works without Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

ANALYST_SCHEMA = "analyst"
MART_SCHEMAS = ("core", "campaign", "decisioning", "reporting")
PUBLISHED_FILE = "campaign_mart.duckdb"


@dataclass(frozen=True)
class AnalystView:
    name: str  # analyst.<name>
    source: str  # schema.table
    masked: dict[str, str]  # column -> hash | redact


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _masked_expression(column: str, data_type: str, mask: str) -> str:
    quoted = _quote(column)
    if mask == "hash":
        return f"sha256(cast({quoted} as varchar)) as {quoted}"
    return f"cast(null as {data_type}) as {quoted}"


def _view_names(tables: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """analyst.<table>, or <schema>__<table> when two schemas have a table of that name."""
    counts: dict[str, int] = {}
    for _, table in tables:
        counts[table] = counts.get(table, 0) + 1
    return {
        (schema, table): table if counts[table] == 1 else f"{schema}__{table}"
        for schema, table in tables
    }


def base_tables(
    con: duckdb.DuckDBPyConnection, catalog: str | None, schemas: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """(schema, table) of the base tables of ``catalog`` (None: the connection's own database),
    only those of ``schemas`` if given, ordered."""
    rows = con.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_catalog = coalesce(?, current_database()) and table_type = 'BASE TABLE'
        order by table_schema, table_name
        """,
        [catalog],
    ).fetchall()
    return [(schema, table) for schema, table in rows if schemas is None or schema in schemas]


def create_analyst_views(
    con: duckdb.DuckDBPyConnection,
    pii_columns: Mapping[str, str],
    schemas: Sequence[str] = MART_SCHEMAS,
) -> list[AnalystView]:
    """Create ``analyst.<table>`` over every base table of ``schemas`` in the connection's
    database, masking the columns named in ``pii_columns`` (``hash`` or ``redact``)."""
    tables = base_tables(con, None, schemas)
    con.execute(f"create schema if not exists {ANALYST_SCHEMA}")
    views: list[AnalystView] = []
    for (schema, table), name in _view_names(tables).items():
        columns = con.execute(
            """
            select column_name, data_type
            from information_schema.columns
            where table_catalog = current_database() and table_schema = ? and table_name = ?
            order by ordinal_position
            """,
            [schema, table],
        ).fetchall()
        masked = {column: pii_columns[column] for column, _ in columns if column in pii_columns}
        select_list = ", ".join(
            _masked_expression(column, data_type, masked[column])
            if column in masked
            else _quote(column)
            for column, data_type in columns
        )
        con.execute(
            f"create or replace view {ANALYST_SCHEMA}.{_quote(name)} as "
            f"select {select_list} from {_quote(schema)}.{_quote(table)}"
        )
        views.append(AnalystView(name=name, source=f"{schema}.{table}", masked=masked))
    return views


def published_path(data_dir: str | Path | None = None) -> Path:
    """The published mart of ``data_dir`` (default: $CMART_DATA_DIR or ./data)."""
    from cmart.settings import Settings

    return Settings.from_env(data_dir).published_dir / PUBLISHED_FILE


def connect(
    path: str | Path | None = None,
    *,
    unmasked: bool = False,
    data_dir: str | Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published mart.

    By default unqualified table names resolve to the masked ``analyst`` views
    (``select * from dim_customer`` shows hashed national ids and no names). ``unmasked=True``
    resolves them to the mart tables themselves; use it only if you may see personal data.
    The snapshot is consistent for the connection's lifetime: a new publish replaces the file
    by rename and never touches the open one.
    """
    target = Path(path) if path is not None else published_path(data_dir)
    if not target.is_file():
        raise FileNotFoundError(
            f"no published mart at {target}: run `cmart run` (it publishes after a good run)"
        )
    con = duckdb.connect(str(target), read_only=True)
    wanted = [*MART_SCHEMAS, "config"] if unmasked else [ANALYST_SCHEMA, "config"]
    present = {
        row[0]
        for row in con.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database()"
        ).fetchall()
    }
    schemas = [schema for schema in wanted if schema in present]
    if schemas:
        con.execute(f"set search_path = '{','.join(schemas)}'")
    return con
