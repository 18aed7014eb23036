"""Helpers for the decisioning tests: copy a built warehouse, replace some customers' raw
histories, rebuild only the models between those raw tables and `nbo`, and read the result.

The rebuild runs the real dbt project (a subprocess, as the pipeline does) on a private copy
of the warehouse, so the shared fixtures stay untouched.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cmart.settings import DBT_PROJECT_DIR

# Raw sources the decision rules read and the models between them and nbo. The incremental
# ones are fully refreshed, so that deleted raw rows disappear from them too.
REBUILT_MODELS = (
    "stg_campaign__contacts",
    "int_contact_segmented",
    "fct_contact",
    "stg_campaign__responses",
    # the staging models of the replaced histories (tables, not views: rebuilt explicitly)
    "stg_crm__consents",
    "stg_crm__complaints",
    "stg_core_banking__holdings",
    "int_consent_current",
    "int_offer_channels_expanded",
    "int_offer_candidates",
    "int_offer_arbitrated",
    "fct_offer_eligibility",
    "nbo",
)
HISTORY_TABLES = ("consents", "complaints", "responses", "contacts", "holdings")


@dataclass(frozen=True)
class DbtRun:
    returncode: int
    output: str

    def check(self) -> None:
        assert self.returncode == 0, self.output[-6000:]


def run_dbt(warehouse: Path, target_dir: Path, run_date: dt.date, args: Sequence[str]) -> DbtRun:
    """Run the project's dbt with ``args`` against ``warehouse``."""
    dbt = Path(sys.executable).parent / "dbt"
    env = {
        **os.environ,
        "CMART_WAREHOUSE_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [
        str(dbt),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_dir / "target"),
        "--log-path",
        str(target_dir / "logs"),
        "--vars",
        json.dumps({"run_date": run_date.isoformat()}),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return DbtRun(done.returncode, done.stdout + done.stderr)


def rebuild_decisioning(warehouse: Path, target_dir: Path, run_date: dt.date) -> None:
    """Rebuild the models between the raw histories and nbo (full refresh)."""
    run_dbt(
        warehouse, target_dir, run_date, ["run", "--full-refresh", "-s", *REBUILT_MODELS]
    ).check()


def copy_warehouse(source: Path, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination


def _raw_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()


def replace_histories(
    con: duckdb.DuckDBPyConnection,
    customer_ids: Iterable[str],
    rows_by_table: dict[str, list[dict[str, Any]]],
    tag: str,
) -> None:
    """Delete every raw history row of ``customer_ids`` and insert ``rows_by_table`` instead."""
    ids = sorted(set(customer_ids))
    for table in HISTORY_TABLES:
        con.execute(f"delete from raw.{table} where trim(customer_id) in (select unnest(?))", [ids])
        if rows_by_table.get(table):
            append_rows(con, table, rows_by_table[table], tag)


def append_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]], tag: str
) -> None:
    """Insert ``rows`` into ``raw.<table>`` as a newly loaded batch."""
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    columns = _raw_columns(con, table)
    data: dict[str, list[Any]] = {name: [] for name, _ in columns}
    for index, row in enumerate(rows, start=1):
        metadata = {
            "_file": f"{table}/{tag}.csv",
            "_row": index,
            "_loaded_at": loaded_at,
            "_batch_id": tag,
        }
        for name, _ in columns:
            data[name].append(row.get(name, metadata.get(name)))
    con.register("_new_rows", pa.table(data))
    names = ", ".join(name for name, _ in columns)
    casts = ", ".join(f"cast({name} as {kind}) as {name}" for name, kind in columns)
    con.execute(f"insert into raw.{table} ({names}) select {casts} from _new_rows")
    con.unregister("_new_rows")


def query(warehouse: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()
