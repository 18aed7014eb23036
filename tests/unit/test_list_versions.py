"""Versioned re-issue of a day's channel list: history kept, deltas say what changed and why."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cmart.exports import write_channel_export
from cmart.list_versions import delta_name, reissue_lists

RUN_DATE = dt.date(2026, 11, 29)


def _list() -> pa.Table:
    return pa.table(
        {
            "customer_id": ["C1", "C2", "C3"],
            "offer_id": ["O1", "O1", "O2"],
            "campaign_id": ["K1", "K1", "K1"],
            "product_id": ["P1", "P1", "P2"],
            "channel": ["call_center"] * 3,
            "rank": pa.array([1, 1, 1], pa.int32()),
            "score": [0.9, 0.8, 0.7],
            "cell": ["A", "A", "A"],
            "mobile_phone": ["+3247", "+3248", "=cmd()"],
        }
    )


def _warehouse(path: Path, statuses: dict[tuple[str, str], str]) -> None:
    """A decisioning.fct_offer_eligibility of the call-centre rows with the given statuses."""
    rows = [
        (RUN_DATE, customer, offer, "call_center", status, note)
        for (customer, offer), status in statuses.items()
        for note in ["suppressed" if status not in ("eligible", "capacity") else "selected"]
    ]
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists decisioning")
        con.execute(
            "create or replace table decisioning.fct_offer_eligibility (run_date date, "
            "customer_id varchar, offer_id varchar, channel varchar, eligibility_status varchar, "
            "selection_note varchar)"
        )
        con.executemany(
            "insert into decisioning.fct_offer_eligibility values (?, ?, ?, ?, ?, ?)", rows
        )


def _pairs(path: Path) -> set[tuple[str, str]]:
    return {(r["customer_id"], r["offer_id"]) for r in pq.read_table(path).to_pylist()}


def _delta(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_lists_are_reissued_as_new_versions_with_deltas(tmp_path: Path) -> None:
    exports, warehouse = tmp_path / "exports", tmp_path / "warehouse.duckdb"
    write_channel_export(
        _list(), "call_center", RUN_DATE, exports, run_id="daily", config_version="v"
    )
    folder = exports / "call_center" / RUN_DATE.isoformat()
    all_eligible = {("C1", "O1"): "eligible", ("C2", "O1"): "eligible", ("C3", "O2"): "eligible"}

    _warehouse(warehouse, all_eligible)
    untouched = reissue_lists(warehouse, exports, ["call_center", "sms"], RUN_DATE, run_id="r0")
    assert [(item.channel, item.version, item.removed) for item in untouched] == [
        ("call_center", 1, 0)
    ]
    assert not (folder / "versions").exists()

    # C1 accepted O1 by SMS; capacity changes do not reshuffle a list already handed out
    _warehouse(
        warehouse, {**all_eligible, ("C1", "O1"): "responded_recently", ("C2", "O1"): "capacity"}
    )
    [first] = reissue_lists(warehouse, exports, ["call_center"], RUN_DATE, run_id="r1")
    assert (first.version, first.removed, first.rows) == (2, 1, 2)
    assert _pairs(folder / "offers.parquet") == {("C2", "O1"), ("C3", "O2")}
    assert _pairs(folder / "versions" / "1" / "offers.parquet") == set(all_eligible)
    assert _delta(folder / delta_name(1)) == [
        {"customer_id": "C1", "offer_id": "O1", "reason": "responded_recently"}
    ]
    assert "'=cmd()" in (folder / "offers.csv").read_text()  # still formula-safe

    # later, C3 opens a complaint: version 3, each delta relative to its own version
    _warehouse(
        warehouse,
        {**all_eligible, ("C1", "O1"): "responded_recently", ("C3", "O2"): "open_complaint"},
    )
    [second] = reissue_lists(warehouse, exports, ["call_center"], RUN_DATE, run_id="r2")
    assert (second.version, second.removed) == (3, 1)
    assert _pairs(folder / "offers.parquet") == {("C2", "O1")}
    assert {(r["customer_id"], r["reason"]) for r in _delta(folder / delta_name(1))} == {
        ("C1", "responded_recently"),
        ("C3", "open_complaint"),
    }
    assert _delta(folder / delta_name(2)) == [
        {"customer_id": "C3", "offer_id": "O2", "reason": "open_complaint"}
    ]
    assert _pairs(folder / "versions" / "2" / "offers.parquet") == {("C2", "O1"), ("C3", "O2")}
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert manifest["version"] == 3 and manifest["row_count"] == 1
    assert set(manifest["suppression_deltas"]) == {delta_name(1), delta_name(2)}
    assert json.loads((folder / "versions" / "1" / "_manifest.json").read_text())["run_id"] == (
        "daily"
    )

    again = reissue_lists(warehouse, exports, ["call_center"], RUN_DATE, run_id="r3")
    assert again[0].version == 3 and again[0].removed == 0
