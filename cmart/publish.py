"""Write–audit–publish: a read-only snapshot of the marts for analysts.

The pipeline copies the mart schemas into a new DuckDB file next to the published one, adds
the ``analyst`` schema of masked views (:mod:`cmart.analyst`), then renames it into place.
Readers that hold the previous file open keep a consistent snapshot (the old inode lives until
they close it) and never block the pipeline.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cmart.analyst import MART_SCHEMAS, create_analyst_views
from cmart.config import DEFAULT_PII_COLUMNS

PUBLISHED_SCHEMAS = ("core", "campaign", "decisioning", "reporting", "config")
PUBLISHED_FILE = "campaign_mart.duckdb"


@dataclass(frozen=True)
class PublishReport:
    path: Path
    tables: dict[str, int]  # schema.table -> rows
    analyst_views: dict[str, list[str]] = field(default_factory=dict)  # view -> masked columns


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def publish_snapshot(
    warehouse_path: Path,
    published_dir: Path,
    schemas: tuple[str, ...] = PUBLISHED_SCHEMAS,
    pii_columns: Mapping[str, str] | None = None,
) -> PublishReport:
    """Copy ``schemas`` of the warehouse into a new file, add the masked ``analyst`` views
    (``pii_columns``: column -> hash | redact; default: the shipped settings), rename it into
    place."""
    masks = DEFAULT_PII_COLUMNS if pii_columns is None else pii_columns
    published_dir.mkdir(parents=True, exist_ok=True)
    target = published_dir / PUBLISHED_FILE
    for stale in published_dir.glob(f".{PUBLISHED_FILE}.*.tmp*"):  # left by a killed publish
        stale.unlink(missing_ok=True)
    staged = published_dir / f".{PUBLISHED_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    tables: dict[str, int] = {}
    try:
        with duckdb.connect(str(staged)) as con:
            con.execute("attach ? as warehouse (read_only)", [str(warehouse_path)])
            relations = con.execute(
                """
                select table_schema, table_name
                from information_schema.tables
                where table_catalog = 'warehouse' and table_type = 'BASE TABLE'
                  and table_schema in (select unnest(?::varchar[]))
                order by table_schema, table_name
                """,
                [list(schemas)],
            ).fetchall()
            for schema, table in relations:
                name = f"{_quote(schema)}.{_quote(table)}"
                con.execute(f"create schema if not exists {_quote(schema)}")
                con.execute(f"create table {name} as select * from warehouse.{name}")
                count = con.execute(f"select count(*) from {name}").fetchone()
                tables[f"{schema}.{table}"] = int(count[0]) if count else 0
            con.execute("detach warehouse")
            mart_schemas = [schema for schema in schemas if schema in MART_SCHEMAS]
            views = create_analyst_views(con, masks, mart_schemas)
            con.execute("checkpoint")
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
        Path(f"{staged}.wal").unlink(missing_ok=True)
    return PublishReport(
        path=target,
        tables=tables,
        analyst_views={f"analyst.{view.name}": sorted(view.masked) for view in views},
    )
