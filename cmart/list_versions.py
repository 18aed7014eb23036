"""Versioned channel lists: re-issue a day's list after intraday responses, never silently.

A list handed to a channel (`exports/<channel>/<run_date>/`, version 1 = the daily export) is
re-issued when the intraday decision suppresses some of its customer-offer pairs (e.g. the
customer accepted the offer by SMS: `responded_recently` on every channel). The new folder
keeps `offers.csv` / `offers.parquet` / `_manifest.json` as the current version (the manifest
says `version`), every earlier version under `versions/<k>/`, and for each earlier version k a
suppression delta `suppressions_since_v<k>.csv` (customer_id, offer_id, reason): the pairs of
version k that the current version no longer holds, and why. The folder is staged and swapped
into place atomically (cmart.exports.publish_folder), as the daily export is.

Only pairs that a per-candidate rule now suppresses are removed (fct_offer_eligibility's
selection_note = 'suppressed': a response, consent, complaint, ...). Arbitration changes
(capacity freed, another offer ranked higher) do not reshuffle a list already handed out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmart.exports import neutralise_formulas, publish_folder

LIST_STEM = "offers"
MANIFEST = "_manifest.json"
VERSIONS_FOLDER = "versions"
DELTA_PREFIX = "suppressions_since_v"
DELTA_COLUMNS = ("customer_id", "offer_id", "reason")
ELIGIBILITY_RELATION = "decisioning.fct_offer_eligibility"
DELTA_SCHEMA = pa.schema([(name, pa.string()) for name in DELTA_COLUMNS])


@dataclass(frozen=True)
class Reissue:
    channel: str
    folder: Path
    version: int  # the current version after the call
    removed: int  # pairs removed by this call (0: the list was left untouched)
    rows: int  # rows of the current version


def delta_name(version: int) -> str:
    return f"{DELTA_PREFIX}{version}.csv"


def read_manifest(folder: Path) -> dict[str, object]:
    return json.loads((folder / MANIFEST).read_text())


def list_version(manifest: dict[str, object]) -> int:
    value = manifest.get("version", 1)
    return int(value) if isinstance(value, int | str) else 1


def suppressed_pairs(
    con: duckdb.DuckDBPyConnection, current: pa.Table, channel: str, run_date: dt.date
) -> pa.Table:
    """Pairs of ``current`` that a per-candidate rule of today's decision now suppresses."""
    con.register("current_list", current.select(["customer_id", "offer_id"]))
    try:
        return con.sql(
            f"""
            select
                cast(current_list.customer_id as varchar) as customer_id,
                cast(current_list.offer_id as varchar) as offer_id,
                eligibility.eligibility_status as reason
            from current_list
            inner join {ELIGIBILITY_RELATION} as eligibility
                on current_list.customer_id = eligibility.customer_id
                and current_list.offer_id = eligibility.offer_id
            where eligibility.run_date = ? and eligibility.channel = ?
                and eligibility.selection_note = 'suppressed'
            order by customer_id, offer_id
            """,
            params=[run_date, channel],
        ).to_arrow_table()
    finally:
        con.unregister("current_list")


def _without(table: pa.Table, removed: pa.Table) -> pa.Table:
    """``table`` minus the (customer_id, offer_id) pairs of ``removed``, order kept."""
    with duckdb.connect() as con:
        con.register("listed", table)
        con.register("removed", removed)
        return con.sql(
            """
            select listed.*
            from listed
            anti join removed
                on cast(listed.customer_id as varchar) = removed.customer_id
                and cast(listed.offer_id as varchar) = removed.offer_id
            order by listed.customer_id, listed.rank, listed.offer_id
            """
        ).to_arrow_table()


def _read_delta(path: Path) -> pa.Table:
    if not path.exists():
        return DELTA_SCHEMA.empty_table()
    options = pacsv.ConvertOptions(column_types=DELTA_SCHEMA)
    return pacsv.read_csv(path, convert_options=options).select(list(DELTA_COLUMNS))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stage_versions(folder: Path, staged: Path, version: int) -> None:
    """Carry earlier versions over and file the current one as versions/<version>/."""
    if (folder / VERSIONS_FOLDER).is_dir():
        shutil.copytree(folder / VERSIONS_FOLDER, staged / VERSIONS_FOLDER)
    archive = staged / VERSIONS_FOLDER / str(version)
    archive.mkdir(parents=True, exist_ok=True)
    for name in (f"{LIST_STEM}.csv", f"{LIST_STEM}.parquet", MANIFEST):
        if (folder / name).exists():
            shutil.copy2(folder / name, archive / name)


def _stage_deltas(folder: Path, staged: Path, version: int, removed: pa.Table) -> dict[str, str]:
    """suppressions_since_v<k> for every earlier k: the old delta plus today's removals."""
    files: dict[str, str] = {}
    removed = removed.cast(DELTA_SCHEMA)
    for earlier in range(1, version + 1):
        previous = _read_delta(folder / delta_name(earlier)) if earlier < version else None
        delta = removed if previous is None else pa.concat_tables([previous, removed])
        path = staged / delta_name(earlier)
        pacsv.write_csv(neutralise_formulas(delta), path)
        files[path.name] = _sha256(path)
    return files


def write_new_version(
    folder: Path, current: pa.Table, removed: pa.Table, *, run_id: str
) -> Reissue:
    """Stage version k+1 (current minus ``removed``) with its history and swap it in."""
    manifest = read_manifest(folder)
    version = list_version(manifest)
    table = _without(current, removed)
    staged = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    staged.mkdir(parents=True)
    try:
        _stage_versions(folder, staged, version)
        pacsv.write_csv(neutralise_formulas(table), staged / f"{LIST_STEM}.csv")
        pq.write_table(table, staged / f"{LIST_STEM}.parquet", compression="zstd")
        names = (f"{LIST_STEM}.csv", f"{LIST_STEM}.parquet")
        deltas = _stage_deltas(folder, staged, version, removed)
        document = {
            **manifest,
            "version": version + 1,
            "previous_version": version,
            "run_id": run_id,
            "reissued_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "row_count": table.num_rows,
            "columns": table.schema.names,
            "files": {name: _sha256(staged / name) for name in names},
            "suppression_deltas": deltas,
        }
        (staged / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")
        publish_folder(staged, folder)
    finally:
        if staged.exists():
            shutil.rmtree(staged)
    return Reissue(folder.parent.name, folder, version + 1, removed.num_rows, table.num_rows)


def reissue_channel(
    con: duckdb.DuckDBPyConnection,
    exports_dir: Path,
    channel: str,
    run_date: dt.date,
    *,
    run_id: str,
) -> Reissue | None:
    """Re-issue one channel's list of ``run_date`` if today's decision suppresses some of its
    pairs; None when the channel has no list that day."""
    folder = exports_dir / channel / run_date.isoformat()
    if not (folder / MANIFEST).exists():
        return None
    current = pq.read_table(folder / f"{LIST_STEM}.parquet")
    removed = suppressed_pairs(con, current, channel, run_date)
    if removed.num_rows == 0:
        version = list_version(read_manifest(folder))
        return Reissue(channel, folder, version, 0, current.num_rows)
    return write_new_version(folder, current, removed, run_id=run_id)


def reissue_lists(
    warehouse_path: Path,
    exports_dir: Path,
    channels: list[str],
    run_date: dt.date,
    *,
    run_id: str,
) -> list[Reissue]:
    """Re-issue every channel's list of the day that today's decision now suppresses pairs of."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        found = [
            reissue_channel(con, exports_dir, channel, run_date, run_id=run_id)
            for channel in channels
        ]
    return [item for item in found if item is not None]
