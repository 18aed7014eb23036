"""Channel exports: one list per channel and day, written atomically with a manifest.

`data/exports/<channel>/<run_date>/` holds `offers.csv`, `offers.parquet` and `_manifest.json`
(CONTRACTS.md "Channel exports"). The folder is built under a temporary name and swapped into
place, so a channel sees the previous complete folder or the new complete one, never a mix.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmart.config import CampaignConfig, Channel

BASE_COLUMNS = ("customer_id", "offer_id", "campaign_id", "product_id", "channel", "rank", "score")
NBO_RELATION = "decisioning.nbo"
# A cell starting with one of these is read as a formula by spreadsheets: neutralise it with a
# leading apostrophe. A sign followed by a digit or space (a phone number, a number) is data.
_FORMULA_PATTERN = r"^([=@\t\r]|[+\-][^0-9 ])"


@dataclass(frozen=True)
class ChannelExport:
    channel: str
    folder: Path
    rows: int
    files: dict[str, str]  # file name -> sha256


def export_columns(channel: Channel) -> list[str]:
    """The columns a channel receives: the base columns, the cell, and only its contact fields."""
    return [*BASE_COLUMNS, "cell", *channel.contact_fields]


def channel_list(con: duckdb.DuckDBPyConnection, channel: Channel, run_date: dt.date) -> pa.Table:
    """Today's list for one channel, control-group customers left out, in a stable order."""
    columns = ", ".join(export_columns(channel))
    query = f"""
        select {columns}
        from {NBO_RELATION}
        where channel = ? and run_date = ? and not is_control
        order by customer_id, rank, offer_id
    """
    return con.sql(query, params=[channel.channel_code, run_date]).to_arrow_table()


def neutralise_formulas(table: pa.Table) -> pa.Table:
    """Prefix spreadsheet-formula-looking strings with an apostrophe (CSV injection)."""
    for index, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            safe = pc.replace_substring_regex(table.column(index), _FORMULA_PATTERN, r"'\1")
            table = table.set_column(index, field, safe)
    return table


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _renameat2_exchange(source: Path, target: Path) -> bool:
    """Atomically swap two directories (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(
        at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), rename_exchange
    )
    return result == 0


def publish_folder(staged: Path, target: Path) -> None:
    """Move a fully written folder into place, replacing an existing one atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        staged.rename(target)
        return
    if _renameat2_exchange(staged, target):
        shutil.rmtree(staged)  # `staged` now holds the previous version
        return
    retired = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    target.rename(retired)
    staged.rename(target)
    shutil.rmtree(retired)


def write_channel_export(
    table: pa.Table,
    channel: str,
    run_date: dt.date,
    exports_dir: Path,
    *,
    run_id: str,
    config_version: str,
) -> ChannelExport:
    target = exports_dir / channel / run_date.isoformat()
    staged = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    staged.mkdir(parents=True)
    try:
        safe = neutralise_formulas(table)
        pacsv.write_csv(safe, staged / "offers.csv")
        pq.write_table(table, staged / "offers.parquet", compression="zstd")
        files = {name: _sha256(staged / name) for name in ("offers.csv", "offers.parquet")}
        manifest = {
            "channel": channel,
            "run_date": run_date.isoformat(),
            "run_id": run_id,
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "row_count": table.num_rows,
            "columns": table.schema.names,
            "files": files,
            "config_version": config_version,
        }
        (staged / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        publish_folder(staged, target)
    finally:
        if staged.exists():
            shutil.rmtree(staged)
    return ChannelExport(channel=channel, folder=target, rows=table.num_rows, files=files)


def export_channels(
    warehouse_path: Path,
    exports_dir: Path,
    config: CampaignConfig,
    run_date: dt.date,
    *,
    run_id: str,
    channels: list[str] | None = None,
) -> list[ChannelExport]:
    """Write today's list for each configured channel (or the ones named)."""
    wanted = channels or config.channel_codes
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        tables = {code: channel_list(con, config.channel(code), run_date) for code in wanted}
    return [
        write_channel_export(
            table,
            code,
            run_date,
            exports_dir,
            run_id=run_id,
            config_version=config.version,
        )
        for code, table in tables.items()
    ]
