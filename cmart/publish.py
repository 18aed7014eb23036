"""Write–audit–publish: a read-only snapshot of the marts for analysts.

The pipeline copies the mart schemas into a new DuckDB file next to the published one, adds
the ``analyst`` schema of masked views (:mod:`cmart.analyst`), then renames it into place.
Readers that hold the previous file open keep a consistent snapshot (the old inode lives until
they close it) and never block the pipeline.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cmart.analyst import MART_SCHEMAS, base_tables, create_analyst_views
from cmart.config import DEFAULT_PII_COLUMNS

PUBLISHED_SCHEMAS = ("core", "campaign", "decisioning", "reporting", "config")
PUBLISHED_FILE = "campaign_mart.duckdb"
# meta.publish_info: one row saying which run date the snapshot is of and how it was written
PUBLISH_INFO = "meta.publish_info"


@dataclass(frozen=True)
class PublishReport:
    path: Path
    tables: dict[str, int]  # schema.table -> rows
    analyst_views: dict[str, list[str]] = field(default_factory=dict)  # view -> masked columns
    mode: str = "full"  # full: every table copied; refresh: only the changed ones
    copied: list[str] = field(default_factory=list)  # schema.table copied from the warehouse


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def publish_snapshot(
    warehouse_path: Path,
    published_dir: Path,
    schemas: tuple[str, ...] = PUBLISHED_SCHEMAS,
    pii_columns: Mapping[str, str] | None = None,
    *,
    run_date: dt.date | None = None,
    refresh: Collection[str] | None = None,
) -> PublishReport:
    """Copy ``schemas`` of the warehouse into a new file, add the masked ``analyst`` views
    (``pii_columns``: column -> hash | redact; default: the shipped settings), rename it into
    place.

    With ``refresh`` (``schema.table`` names, e.g. the models an intraday run rebuilt), the new
    file starts as a copy of the current snapshot and only those tables (and any table the
    snapshot lacks) are copied from the warehouse, provided the current snapshot is of the same
    ``run_date``; otherwise every table is copied. Either way readers only ever see a whole
    file."""
    masks = DEFAULT_PII_COLUMNS if pii_columns is None else pii_columns
    published_dir.mkdir(parents=True, exist_ok=True)
    target = published_dir / PUBLISHED_FILE
    for stale in published_dir.glob(f".{PUBLISHED_FILE}.*.tmp*"):  # left by a killed publish
        stale.unlink(missing_ok=True)
    staged = published_dir / f".{PUBLISHED_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    tables: dict[str, int] = {}
    copied: list[str] = []
    mode = "full"
    try:
        if refresh is not None and run_date is not None and snapshot_run_date(target) == run_date:
            shutil.copyfile(target, staged)
            mode = "refresh"
        with duckdb.connect(str(staged)) as con:
            con.execute("attach ? as warehouse (read_only)", [str(warehouse_path)])
            present = {f"{schema}.{table}" for schema, table in base_tables(con, None)}
            wanted = None if mode == "full" else set(refresh or ())
            for schema, table in base_tables(con, "warehouse", schemas):
                qualified = f"{schema}.{table}"
                name = f"{_quote(schema)}.{_quote(table)}"
                if wanted is None or qualified in wanted or qualified not in present:
                    con.execute(f"create schema if not exists {_quote(schema)}")
                    con.execute(f"create or replace table {name} as select * from warehouse.{name}")
                    copied.append(qualified)
                count = con.execute(f"select count(*) from {name}").fetchone()
                tables[qualified] = int(count[0]) if count else 0
            con.execute("detach warehouse")
            mart_schemas = [schema for schema in schemas if schema in MART_SCHEMAS]
            views = create_analyst_views(con, masks, mart_schemas)
            _write_publish_info(con, run_date, mode, len(copied))
            con.execute("checkpoint")
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
        Path(f"{staged}.wal").unlink(missing_ok=True)
    return PublishReport(
        path=target,
        tables=tables,
        analyst_views={f"analyst.{view.name}": sorted(view.masked) for view in views},
        mode=mode,
        copied=copied,
    )


def _write_publish_info(
    con: duckdb.DuckDBPyConnection, run_date: dt.date | None, mode: str, copied: int
) -> None:
    con.execute("create schema if not exists meta")
    con.execute(
        f"create or replace table {PUBLISH_INFO} as select ?::date as run_date, "
        "?::varchar as publish_mode, ?::integer as tables_copied, "
        "current_timestamp::timestamp as published_at",
        [run_date, mode, copied],
    )


def snapshot_run_date(path: Path) -> dt.date | None:
    """The run date the published snapshot at ``path`` is of (None: no file, or no info)."""
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(f"select run_date from {PUBLISH_INFO}").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None
