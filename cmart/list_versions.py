"""Versioned channel lists: re-issue a day's list after intraday responses, never silently.

A list handed to a channel (`exports/<channel>/<run_date>/`, version 1 = the daily export) is
re-issued when the intraday decision suppresses some of its customer-offer pairs (e.g. the
customer accepted the offer by SMS: `responded_recently` on every channel). The new folder
keeps `offers.csv` / `offers.parquet` / `_manifest.json` as the current version (the manifest
says `version`), every earlier version under `versions/<k>/`, and for each earlier version k a
suppression delta `suppressions_since_v<k>.csv` (customer_id, offer_id, reason): the pairs of
version k that the current version no longer holds, and why; and, when the configuration
revises answered offers (settings revise_after_response), a revision delta
`revisions_since_v<k>.csv` (the list's own columns): the rows the current version holds that
version k did not. The folder is staged and swapped into place atomically
(cmart.exports.publish_folder), as the daily export is.

Only pairs that a per-candidate rule now suppresses are removed (fct_offer_eligibility's
selection_note = 'suppressed': a response, consent, complaint, ...), and only intraday
replacements of such pairs are added (selection_note = 'revised', int_offer_revised), with the
rank nbo gives them. Arbitration changes (capacity freed, another offer ranked higher) do not
reshuffle a list already handed out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmart.config import Channel
from cmart.exports import NBO_RELATION, export_columns, neutralise_formulas, publish_folder

LIST_STEM = "offers"
MANIFEST = "_manifest.json"
VERSIONS_FOLDER = "versions"
DELTA_PREFIX = "suppressions_since_v"
REVISION_PREFIX = "revisions_since_v"
DELTA_COLUMNS = ("customer_id", "offer_id", "reason")
ELIGIBILITY_RELATION = "decisioning.fct_offer_eligibility"
DELTA_SCHEMA = pa.schema([(name, pa.string()) for name in DELTA_COLUMNS])


@dataclass(frozen=True)
class Reissue:
    channel: str
    folder: Path
    version: int  # the current version after the call
    removed: int  # pairs removed by this call
    rows: int  # rows of the current version
    added: int = 0  # revised pairs added by this call (removed = added = 0: left untouched)


def delta_name(version: int) -> str:
    return f"{DELTA_PREFIX}{version}.csv"


def revision_delta_name(version: int) -> str:
    return f"{REVISION_PREFIX}{version}.csv"


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


def revised_rows(
    con: duckdb.DuckDBPyConnection, current: pa.Table, channel: Channel, run_date: dt.date
) -> pa.Table:
    """Today's intraday replacements on ``channel`` (nbo rows the eligibility log marks
    'revised') that ``current`` does not hold yet, in the list's columns and types."""
    columns = ", ".join(f"nbo.{name}" for name in export_columns(channel))
    con.register("current_list", current.select(["customer_id", "offer_id"]))
    try:
        found = con.sql(
            f"""
            select {columns}
            from {NBO_RELATION} as nbo
            inner join {ELIGIBILITY_RELATION} as eligibility
                on nbo.customer_id = eligibility.customer_id
                and nbo.offer_id = eligibility.offer_id
                and nbo.channel = eligibility.channel
                and nbo.run_date = eligibility.run_date
            where nbo.run_date = ? and nbo.channel = ? and not nbo.is_control
                and eligibility.selection_note = 'revised'
                and not exists (
                    select 1
                    from current_list
                    where cast(current_list.customer_id as varchar) = nbo.customer_id
                        and cast(current_list.offer_id as varchar) = nbo.offer_id
                )
            order by nbo.customer_id, nbo.rank, nbo.offer_id
            """,
            params=[run_date, channel.channel_code],
        ).to_arrow_table()
    finally:
        con.unregister("current_list")
    return found.select(current.schema.names).cast(current.schema)


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


def _stage_revision_deltas(
    folder: Path, staged: Path, version: int, table: pa.Table, added: pa.Table
) -> dict[str, str]:
    """revisions_since_v<k> for every earlier k, once the list was ever revised: the rows of
    the new version (``table``) that version k did not hold (a revision answered later is gone
    from the list, hence from the delta)."""
    if added.num_rows == 0 and not any(folder.glob(f"{REVISION_PREFIX}*.csv")):
        return {}
    files: dict[str, str] = {}
    for earlier in range(1, version + 1):
        held = pq.read_table(staged / VERSIONS_FOLDER / str(earlier) / f"{LIST_STEM}.parquet")
        delta = _without(table, held.select(["customer_id", "offer_id"]))
        if delta.num_rows == 0:
            continue
        path = staged / revision_delta_name(earlier)
        pacsv.write_csv(neutralise_formulas(delta), path)
        files[path.name] = _sha256(path)
    return files


def write_new_version(
    folder: Path,
    current: pa.Table,
    removed: pa.Table,
    *,
    run_id: str,
    added: pa.Table | None = None,
) -> Reissue:
    """Stage version k+1 (current minus ``removed`` plus ``added``) with its history and swap
    it in."""
    manifest = read_manifest(folder)
    version = list_version(manifest)
    added = current.schema.empty_table() if added is None else added
    table = _without(pa.concat_tables([current, added]), removed)
    staged = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    staged.mkdir(parents=True)
    try:
        _stage_versions(folder, staged, version)
        pacsv.write_csv(neutralise_formulas(table), staged / f"{LIST_STEM}.csv")
        pq.write_table(table, staged / f"{LIST_STEM}.parquet", compression="zstd")
        names = (f"{LIST_STEM}.csv", f"{LIST_STEM}.parquet")
        deltas = _stage_deltas(folder, staged, version, removed)
        revisions = _stage_revision_deltas(folder, staged, version, table, added)
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
            **({"revision_deltas": revisions} if revisions else {}),
        }
        (staged / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")
        publish_folder(staged, folder)
    finally:
        if staged.exists():
            shutil.rmtree(staged)
    return Reissue(
        folder.parent.name, folder, version + 1, removed.num_rows, table.num_rows, added.num_rows
    )


def reissue_channel(
    con: duckdb.DuckDBPyConnection,
    exports_dir: Path,
    channel: Channel,
    run_date: dt.date,
    *,
    run_id: str,
) -> Reissue | None:
    """Re-issue one channel's list of ``run_date`` if today's decision suppresses some of its
    pairs or revises them; None when the channel has no list that day."""
    code = channel.channel_code
    folder = exports_dir / code / run_date.isoformat()
    if not (folder / MANIFEST).exists():
        return None
    current = pq.read_table(folder / f"{LIST_STEM}.parquet")
    removed = suppressed_pairs(con, current, code, run_date)
    added = revised_rows(con, current, channel, run_date)
    if removed.num_rows == 0 and added.num_rows == 0:
        version = list_version(read_manifest(folder))
        return Reissue(code, folder, version, 0, current.num_rows)
    return write_new_version(folder, current, removed, run_id=run_id, added=added)


def reissue_lists(
    warehouse_path: Path,
    exports_dir: Path,
    channels: Sequence[Channel],
    run_date: dt.date,
    *,
    run_id: str,
) -> list[Reissue]:
    """Re-issue every channel's list of the day that today's decision now suppresses pairs of
    (or revises)."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        found = [
            reissue_channel(con, exports_dir, channel, run_date, run_id=run_id)
            for channel in channels
        ]
    return [item for item in found if item is not None]
