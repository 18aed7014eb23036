"""Fulfilment outbox: each fulfilment request leaves the mart exactly once, as a file.

`campaign.fct_fulfilment_request` (dbt) holds one row per hard response to an offer with a
fulfilment action, keyed by a stable ``idempotency_key``. This module hands the rows to the
operational systems as JSON-lines batch files in ``<outbox>/fulfilment/``, write-ahead:

1. *recover*: keys found in batch files that the ledger does not cover yet (a crash after
   the file was renamed into place, before the ledger was updated) are added to the ledger;
2. *pending* = requests whose key is not in the ledger;
3. the batch file ``fulfilment_<run_date>_<hash of its keys>.jsonl`` is written under a
   dot-name (ignored by readers), fsynced and renamed into place: it appears complete or not
   at all;
4. the ledger ``_published.parquet`` (key, batch file, published_at) is rewritten the same
   way, after the file.

A crash before 3 leaves nothing (the next run emits the rows); between 3 and 4, step 1 of the
next run adopts the file instead of writing a second one; re-running, rebuilding the table or
replaying a response file yields the same keys, which the ledger already holds. Consumers may
delete batch files once processed: the ledger keeps the keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REQUEST_RELATION = "campaign.fct_fulfilment_request"
FULFILMENT_FOLDER = "fulfilment"
BATCH_PREFIX = "fulfilment_"
BATCH_SUFFIX = ".jsonl"
LEDGER_FILE = "_published.parquet"
REQUEST_COLUMNS = (
    "idempotency_key",
    "fulfilment_action",
    "customer_id",
    "offer_id",
    "response_id",
    "campaign_id",
    "product_id",
    "channel",
    "response_type",
    "responded_at",
)
LEDGER_SCHEMA = pa.schema(
    [
        ("idempotency_key", pa.string()),
        ("batch_file", pa.string()),
        ("published_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class OutboxReport:
    folder: Path
    batch_file: Path | None  # the file written by this call, if any
    emitted: int  # requests written by this call
    recovered: int  # keys adopted from a batch file the ledger did not cover yet
    total_published: int  # keys in the ledger after this call


def fulfilment_folder(outbox_dir: Path) -> Path:
    return outbox_dir / FULFILMENT_FOLDER


def read_requests(warehouse_path: Path) -> pa.Table:
    """Every fulfilment request of the mart, in key order (read-only connection)."""
    columns = ", ".join(REQUEST_COLUMNS)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        query = f"select {columns} from {REQUEST_RELATION} order by idempotency_key"
        return con.sql(query).to_arrow_table()


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _commit(staged: Path, target: Path) -> None:
    """fsync ``staged``, rename it to ``target`` (atomic on one file system), fsync the folder."""
    with staged.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(staged, target)
    _fsync_dir(target.parent)


def _staged_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")


def read_ledger(folder: Path) -> pa.Table:
    path = folder / LEDGER_FILE
    if not path.exists():
        return LEDGER_SCHEMA.empty_table()
    return pq.read_table(path, schema=LEDGER_SCHEMA)


def _write_ledger(folder: Path, ledger: pa.Table) -> None:
    target = folder / LEDGER_FILE
    staged = _staged_name(target)
    try:
        pq.write_table(ledger, staged)
        _commit(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def batch_files(folder: Path) -> list[Path]:
    """Complete batch files in the folder (dot-named temporaries are not)."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{BATCH_PREFIX}*{BATCH_SUFFIX}"))


def _keys_of_batch(path: Path) -> pa.Array:
    with duckdb.connect() as con:
        query = "select idempotency_key from read_json_auto(?, format = 'newline_delimited')"
        return con.sql(query, params=[str(path)]).to_arrow_table().column(0).combine_chunks()


def _ledger_rows(keys: pa.Array, batch_file: str, at: dt.datetime) -> pa.Table:
    return pa.table(
        {
            "idempotency_key": keys.cast(pa.string()),
            "batch_file": pa.array([batch_file] * len(keys), pa.string()),
            "published_at": pa.array([at] * len(keys), LEDGER_SCHEMA.field("published_at").type),
        },
        schema=LEDGER_SCHEMA,
    )


def recover(folder: Path, now: dt.datetime | None = None) -> int:
    """Adopt batch files the ledger does not cover yet (roll forward); returns keys added."""
    ledger = read_ledger(folder)
    covered = set(ledger.column("batch_file").to_pylist())
    orphans = [path for path in batch_files(folder) if path.name not in covered]
    if not orphans:
        return 0
    at = now or dt.datetime.now(dt.UTC)
    known = ledger.column("idempotency_key")
    additions = []
    for path in orphans:
        keys = _keys_of_batch(path)
        fresh = pc.filter(keys, pc.invert(pc.is_in(keys, value_set=known)))
        additions.append(_ledger_rows(fresh, path.name, at))
    added = pa.concat_tables(additions)
    _write_ledger(folder, pa.concat_tables([ledger, added]))
    return added.num_rows


def pending_requests(requests: pa.Table, folder: Path) -> pa.Table:
    """The requests whose idempotency key the ledger does not hold."""
    published = read_ledger(folder).column("idempotency_key")
    keep = pc.invert(pc.is_in(requests.column("idempotency_key"), value_set=published))
    return requests.filter(keep)


def batch_name(pending: pa.Table, run_date: dt.date) -> str:
    """Named by run date and a hash of its keys: the same pending set, the same name."""
    digest = hashlib.sha256()
    for key in sorted(pending.column("idempotency_key").to_pylist()):
        digest.update(f"{key}\n".encode())
    return f"{BATCH_PREFIX}{run_date.isoformat()}_{digest.hexdigest()[:16]}{BATCH_SUFFIX}"


def write_batch(pending: pa.Table, folder: Path, run_date: dt.date) -> Path:
    """Write the pending requests as one JSON-lines file, atomically; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / batch_name(pending, run_date)
    staged = _staged_name(target)
    try:
        with duckdb.connect() as con:
            con.register("pending_requests", pending)
            con.execute(
                "copy (select * replace (strftime(responded_at, '%Y-%m-%dT%H:%M:%S') "
                "as responded_at) from pending_requests order by idempotency_key) "
                f"to '{staged}' (format json)"
            )
        _commit(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return target


def record_batch(folder: Path, batch: Path, now: dt.datetime | None = None) -> int:
    """Add the keys of ``batch`` to the ledger (after the file is in place)."""
    ledger = read_ledger(folder)
    keys = _keys_of_batch(batch)
    fresh = pc.filter(keys, pc.invert(pc.is_in(keys, value_set=ledger.column("idempotency_key"))))
    rows = _ledger_rows(fresh, batch.name, now or dt.datetime.now(dt.UTC))
    _write_ledger(folder, pa.concat_tables([ledger, rows]))
    return rows.num_rows


def publish_requests(requests: pa.Table, outbox_dir: Path, run_date: dt.date) -> OutboxReport:
    """Emit every request not emitted before (recover, pending, file, then ledger)."""
    folder = fulfilment_folder(outbox_dir)
    folder.mkdir(parents=True, exist_ok=True)
    recovered = recover(folder)
    pending = pending_requests(requests, folder)
    batch: Path | None = None
    if pending.num_rows:
        batch = write_batch(pending, folder, run_date)
        record_batch(folder, batch)
    return OutboxReport(
        folder=folder,
        batch_file=batch,
        emitted=pending.num_rows,
        recovered=recovered,
        total_published=read_ledger(folder).num_rows,
    )


def publish_outbox(warehouse_path: Path, outbox_dir: Path, run_date: dt.date) -> OutboxReport:
    """Read ``campaign.fct_fulfilment_request`` and emit what the ledger does not hold."""
    return publish_requests(read_requests(warehouse_path), outbox_dir, run_date)
