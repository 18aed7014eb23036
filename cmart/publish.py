"""Write–audit–publish: a read-only snapshot of the marts for analysts.

The pipeline copies the mart schemas into a new DuckDB file next to the published one, then
renames it into place. Readers that hold the previous file open keep a consistent snapshot
(the old inode lives until they close it) and never block the pipeline.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

PUBLISHED_SCHEMAS = ("core", "campaign", "decisioning", "reporting", "config")
PUBLISHED_FILE = "campaign_mart.duckdb"


@dataclass(frozen=True)
class PublishReport:
    path: Path
    tables: dict[str, int]  # schema.table -> rows


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def publish_snapshot(
    warehouse_path: Path, published_dir: Path, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
) -> PublishReport:
    published_dir.mkdir(parents=True, exist_ok=True)
    target = published_dir / PUBLISHED_FILE
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
            con.execute("checkpoint")
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
        Path(f"{staged}.wal").unlink(missing_ok=True)
    return PublishReport(path=target, tables=tables)
