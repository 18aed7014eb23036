"""Fulfilment outbox: every idempotency key leaves exactly once (re-runs, replays, crashes)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa

from cmart.outbox import (
    batch_files,
    fulfilment_folder,
    pending_requests,
    publish_requests,
    read_ledger,
    write_batch,
)

RUN_DATE = dt.date(2026, 11, 29)


def _requests(*response_ids: str) -> pa.Table:
    rows = [
        {
            "idempotency_key": f"key-{response_id}",
            "fulfilment_action": "credit_limit_increase",
            "customer_id": f"C{index}",
            "offer_id": "O1",
            "response_id": response_id,
            "campaign_id": "K1",
            "product_id": "P1",
            "channel": "sms",
            "response_type": "accepted",
            "responded_at": dt.datetime(2026, 11, 29, 8, index),
        }
        for index, response_id in enumerate(response_ids)
    ]
    return pa.Table.from_pylist(rows)


def _emitted_keys(outbox: Path) -> list[str]:
    keys = []
    for path in batch_files(fulfilment_folder(outbox)):
        keys += [json.loads(line)["idempotency_key"] for line in path.read_text().splitlines()]
    return sorted(keys)


def test_each_request_is_written_once_with_its_fields(tmp_path: Path) -> None:
    report = publish_requests(_requests("R1", "R2"), tmp_path, RUN_DATE)
    assert report.emitted == 2 and report.batch_file is not None
    assert report.batch_file.name.startswith("fulfilment_2026-11-29_")
    first = json.loads(report.batch_file.read_text().splitlines()[0])
    assert first["fulfilment_action"] == "credit_limit_increase"
    assert first["response_id"] == "R1" and first["customer_id"] == "C0"
    assert _emitted_keys(tmp_path) == ["key-R1", "key-R2"]


def test_rerun_and_replayed_responses_emit_nothing_new(tmp_path: Path) -> None:
    publish_requests(_requests("R1", "R2"), tmp_path, RUN_DATE)
    again = publish_requests(_requests("R1", "R2"), tmp_path, RUN_DATE)
    assert again.emitted == 0 and again.batch_file is None
    replayed = publish_requests(_requests("R2", "R1", "R3"), tmp_path, RUN_DATE)
    assert replayed.emitted == 1
    assert _emitted_keys(tmp_path) == ["key-R1", "key-R2", "key-R3"]
    assert len(batch_files(fulfilment_folder(tmp_path))) == 2


def test_crash_between_file_and_ledger_is_rolled_forward_not_repeated(tmp_path: Path) -> None:
    folder = fulfilment_folder(tmp_path)
    folder.mkdir(parents=True)
    # the run wrote the batch file, then died before recording it in the ledger
    write_batch(pending_requests(_requests("R1", "R2"), folder), folder, RUN_DATE)
    assert read_ledger(folder).num_rows == 0
    # the next run sees one more response as well
    report = publish_requests(_requests("R1", "R2", "R3"), tmp_path, RUN_DATE)
    assert report.recovered == 2
    assert report.emitted == 1
    assert _emitted_keys(tmp_path) == ["key-R1", "key-R2", "key-R3"]
    assert report.total_published == 3


def test_crash_before_the_file_loses_nothing_and_leaves_no_partial_file(tmp_path: Path) -> None:
    folder = fulfilment_folder(tmp_path)
    folder.mkdir(parents=True)
    # a half-written temporary file of a dead run is not a batch
    (folder / ".fulfilment_2026-11-29_dead.jsonl.tmp-1234").write_text('{"idempotency_key": "x"')
    report = publish_requests(_requests("R1"), tmp_path, RUN_DATE)
    assert report.emitted == 1 and report.recovered == 0
    assert _emitted_keys(tmp_path) == ["key-R1"]


def test_consumed_files_are_not_emitted_again(tmp_path: Path) -> None:
    report = publish_requests(_requests("R1"), tmp_path, RUN_DATE)
    assert report.batch_file is not None
    report.batch_file.unlink()  # the fulfilment system took it
    again = publish_requests(_requests("R1"), tmp_path, RUN_DATE)
    assert again.emitted == 0
    assert batch_files(fulfilment_folder(tmp_path)) == []
