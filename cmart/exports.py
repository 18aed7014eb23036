"""Channel exports: one list per channel and day, written atomically with a manifest.

`data/exports/<channel>/<run_date>/` holds `offers.csv`, `offers.parquet` and `_manifest.json`
(CONTRACTS.md "Channel exports"). The folder is built under a temporary name and swapped into
place, so a channel sees the previous complete folder or the new complete one, never a mix.

The same writer produces the sales force's list (`exports/sales_force/<run_date>/`), and the
day's contact history goes to the outbox for the next day's run (see "contact history
write-back" below).
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


def remove_stale_temporaries(target: Path) -> None:
    """Delete the `.<name>.tmp-*` / `.<name>.old-*` folders a killed writer left next to
    ``target``: only the pipeline writes here, one run at a time (the warehouse lock)."""
    for stale in target.parent.glob(f".{target.name}.*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def write_list_folder(
    table: pa.Table,
    target: Path,
    *,
    stem: str,
    manifest: dict[str, object],
) -> dict[str, str]:
    """Write `<stem>.csv`, `<stem>.parquet` and `_manifest.json` into a temporary folder next
    to ``target`` and swap it into place; returns the sha256 of each list file."""
    remove_stale_temporaries(target)
    staged = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    staged.mkdir(parents=True)
    try:
        safe = neutralise_formulas(table)
        pacsv.write_csv(safe, staged / f"{stem}.csv")
        pq.write_table(table, staged / f"{stem}.parquet", compression="zstd")
        names = (f"{stem}.csv", f"{stem}.parquet")
        files = {name: _sha256(staged / name) for name in names}
        document = {
            **manifest,
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "row_count": table.num_rows,
            "columns": table.schema.names,
            "files": files,
        }
        (staged / "_manifest.json").write_text(json.dumps(document, indent=2) + "\n")
        publish_folder(staged, target)
    finally:
        if staged.exists():
            shutil.rmtree(staged)
    return files


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
    manifest: dict[str, object] = {
        "channel": channel,
        "run_date": run_date.isoformat(),
        "run_id": run_id,
        "config_version": config_version,
    }
    files = write_list_folder(table, target, stem="offers", manifest=manifest)
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


# --- contact history write-back ----------------------------------------------------------------
#
# Every nbo row of the day (control group included, with is_control = true) becomes a row of the
# `contacts` landing source (CONTRACTS.md), so that the next run's contact policies, propensities
# and reports see what was sent. The file is written to the outbox first and delivered to
# `landing/contacts/` by the first run of a LATER day: a re-run of the same day must decide on
# the same history (byte-identical lists), not on the contacts its own first run produced.
# contact_id is a hash of (run date, customer, offer, channel): a re-run writes the same ids,
# and staging's dedupe by key keeps one row per contact even if a day's file is delivered twice.

CONTACT_HISTORY_SOURCE = "contacts"
CONTACT_HISTORY_PREFIX = "nbo_"


@dataclass(frozen=True)
class ContactHistoryFile:
    path: Path
    rows: int
    control_rows: int
    sha256: str
    changed: bool  # False when an identical file was already there (left untouched)


def contact_history_name(run_date: dt.date) -> str:
    return f"{CONTACT_HISTORY_PREFIX}{run_date.isoformat()}.parquet"


def is_contact_history_file(path: Path) -> bool:
    """A write-back file of the pipeline itself (the landing sensor ignores these)."""
    return path.parent.name == CONTACT_HISTORY_SOURCE and path.name.startswith(
        CONTACT_HISTORY_PREFIX
    )


def contact_history_table(
    con: duckdb.DuckDBPyConnection,
    config: CampaignConfig,
    run_date: dt.date,
    channels: list[str],
) -> pa.Table:
    """The day's contacts on ``channels`` in the `contacts` landing format, control group
    included, in a stable order. A contact through a channel whose list carries the rep (or
    the branch) is attributed to them."""
    with_rep = [c.channel_code for c in config.channels if "rep_id" in c.contact_fields]
    with_branch = [c.channel_code for c in config.channels if "home_branch_id" in c.contact_fields]
    query = f"""
        select
            'nbo_' || substr(
                sha256(cast(run_date as varchar) || '|' || customer_id || '|' || offer_id
                    || '|' || channel),
                1, 24
            ) as contact_id,
            customer_id,
            offer_id,
            channel,
            cast(run_date as timestamp) as contacted_at,
            cell,
            is_control,
            case when list_contains(?::varchar[], channel) then rep_id end as rep_id,
            case when list_contains(?::varchar[], channel) then home_branch_id end as branch_id
        from {NBO_RELATION}
        where run_date = ? and list_contains(?::varchar[], channel)
        order by customer_id, rank, offer_id
    """
    params = [with_rep, with_branch, run_date, channels]
    return con.sql(query, params=params).to_arrow_table()


def _replace_if_changed(source: Path, target: Path) -> bool:
    """Atomically put ``source``'s bytes at ``target`` (via a dot-named temporary file that the
    loader ignores); an identical target is left untouched (its mtime too). True if written."""
    if target.exists() and _sha256(target) == _sha256(source):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        shutil.copyfile(source, staged)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return True


def exported_channels(exports_dir: Path, config: CampaignConfig, run_date: dt.date) -> list[str]:
    """The configured channels whose list for ``run_date`` has been written."""
    day = run_date.isoformat()
    return [
        code
        for code in config.channel_codes
        if (exports_dir / code / day / "_manifest.json").exists()
    ]


def _day_contacts(
    warehouse_path: Path, exports_dir: Path, config: CampaignConfig, run_date: dt.date
) -> pa.Table:
    """The day's nbo rows on the channels whose list was written, as contacts."""
    channels = exported_channels(exports_dir, config, run_date)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return contact_history_table(con, config, run_date, channels)


def _write_parquet_if_changed(table: pa.Table, target: Path) -> bool:
    """Write ``table`` to ``target`` atomically, leaving an identical file untouched."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.new-{uuid.uuid4().hex[:8]}")
    try:
        pq.write_table(table, staged, compression="zstd")
        return _replace_if_changed(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def write_contact_history(
    warehouse_path: Path,
    outbox_dir: Path,
    exports_dir: Path,
    config: CampaignConfig,
    run_date: dt.date,
) -> ContactHistoryFile:
    """Write the day's contact history (the channels whose list was written) to
    ``<outbox>/contacts/nbo_<run_date>.parquet``."""
    table = _day_contacts(warehouse_path, exports_dir, config, run_date)
    target = outbox_dir / CONTACT_HISTORY_SOURCE / contact_history_name(run_date)
    changed = _write_parquet_if_changed(table, target)
    control = int(pc.sum(table.column("is_control")).as_py() or 0) if table.num_rows else 0
    return ContactHistoryFile(
        path=target,
        rows=table.num_rows,
        control_rows=control,
        sha256=_sha256(target),
        changed=changed,
    )


def add_to_contact_history(
    warehouse_path: Path,
    outbox_dir: Path,
    exports_dir: Path,
    config: CampaignConfig,
    run_date: dt.date,
) -> int:
    """Add the nbo rows of the day that its contact history lacks (intraday revisions of the
    lists) to ``<outbox>/contacts/nbo_<run_date>.parquet``, keeping every row it has (a pair
    answered since was still handed out). Returns the rows added; no file yet: 0 (the daily
    export writes it)."""
    target = outbox_dir / CONTACT_HISTORY_SOURCE / contact_history_name(run_date)
    if not target.exists():
        return 0
    table = _day_contacts(warehouse_path, exports_dir, config, run_date)
    held = pq.read_table(target)
    known = pc.is_in(table.column("contact_id"), value_set=held.column("contact_id"))
    new_rows = table.filter(pc.invert(known))
    if new_rows.num_rows == 0:
        return 0
    merged = pa.concat_tables([held, new_rows.select(held.schema.names).cast(held.schema)])
    _write_parquet_if_changed(merged, target)
    return new_rows.num_rows


def deliver_contact_history(outbox_dir: Path, landing_dir: Path, run_date: dt.date) -> list[Path]:
    """Copy the write-back files of days before ``run_date`` into ``landing/contacts/``
    (atomically; identical files are left alone, so the loader's checksum skips them).
    Returns the landing files written."""
    folder = outbox_dir / CONTACT_HISTORY_SOURCE
    delivered: list[Path] = []
    if not folder.is_dir():
        return delivered
    for path in sorted(folder.glob(f"{CONTACT_HISTORY_PREFIX}*.parquet")):
        day = path.name.removeprefix(CONTACT_HISTORY_PREFIX).removesuffix(".parquet")
        try:
            file_date = dt.date.fromisoformat(day)
        except ValueError:
            continue
        target = landing_dir / CONTACT_HISTORY_SOURCE / path.name
        if file_date < run_date and _replace_if_changed(path, target):
            delivered.append(target)
    return delivered


# --- sales-force list ---------------------------------------------------------------------------

SALES_FORCE_FOLDER = "sales_force"
SALES_FORCE_STEM = "sales_force_list"
SALES_FORCE_RELATION = "decisioning.sales_force_list"


def sales_force_table(con: duckdb.DuckDBPyConnection, run_date: dt.date) -> pa.Table:
    """The day's sales-force list (every column of the mart), by branch, rep, customer, rank."""
    query = f"""
        select * exclude (sales_force_list_sk)
        from {SALES_FORCE_RELATION}
        where run_date = ?
        order by branch_id, rep_id nulls last, customer_id, rank
    """
    return con.sql(query, params=[run_date]).to_arrow_table()


def export_sales_force(
    warehouse_path: Path,
    exports_dir: Path,
    run_date: dt.date,
    *,
    run_id: str,
    config_version: str,
) -> ChannelExport:
    """Write `exports/sales_force/<run_date>/` (sales_force_list.csv/.parquet + manifest)."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        table = sales_force_table(con, run_date)
    target = exports_dir / SALES_FORCE_FOLDER / run_date.isoformat()
    manifest: dict[str, object] = {
        "list": SALES_FORCE_FOLDER,
        "run_date": run_date.isoformat(),
        "run_id": run_id,
        "config_version": config_version,
    }
    files = write_list_folder(table, target, stem=SALES_FORCE_STEM, manifest=manifest)
    return ChannelExport(
        channel=SALES_FORCE_FOLDER, folder=target, rows=table.num_rows, files=files
    )
