"""Versioned re-issue of a day's channel list: history kept, deltas say what changed and why."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cmart.config import Channel
from cmart.exports import write_channel_export
from cmart.list_versions import delta_name, reissue_lists, revision_delta_name

RUN_DATE = dt.date(2026, 11, 29)
CALL_CENTER = Channel(
    channel_code="call_center",
    channel_name="Call centre",
    requires_opt_in=True,
    cost_per_contact=2.0,
    contact_fields=["mobile_phone"],
)
SMS = Channel(
    channel_code="sms",
    channel_name="SMS",
    requires_opt_in=True,
    cost_per_contact=0.05,
    contact_fields=["mobile_phone"],
)


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


def _warehouse(
    path: Path,
    statuses: dict[tuple[str, str], str],
    revised: list[tuple[str, str, str, int, float]] = (),
) -> None:
    """A decisioning.fct_offer_eligibility of the call-centre rows with the given statuses,
    and a decisioning.nbo holding the ``revised`` rows (customer, offer, product, rank, score)
    marked 'revised' in the log."""
    rows = [
        (RUN_DATE, customer, offer, "call_center", status, note)
        for (customer, offer), status in statuses.items()
        for note in ["suppressed" if status not in ("eligible", "capacity") else "selected"]
    ] + [(RUN_DATE, row[0], row[1], "call_center", "eligible", "revised") for row in revised]
    nbo = [
        (RUN_DATE, customer, offer, "K2", product, "call_center", rank, score, "B", False, "+32")
        for customer, offer, product, rank, score in revised
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
        con.execute(
            "create or replace table decisioning.nbo (run_date date, customer_id varchar, "
            "offer_id varchar, campaign_id varchar, product_id varchar, channel varchar, "
            "rank integer, score double, cell varchar, is_control boolean, mobile_phone varchar)"
        )
        if nbo:
            con.executemany(
                "insert into decisioning.nbo values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", nbo
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
    untouched = reissue_lists(warehouse, exports, [CALL_CENTER, SMS], RUN_DATE, run_id="r0")
    assert [(item.channel, item.version, item.removed) for item in untouched] == [
        ("call_center", 1, 0)
    ]
    assert not (folder / "versions").exists()

    # C1 accepted O1 by SMS; capacity changes do not reshuffle a list already handed out
    _warehouse(
        warehouse, {**all_eligible, ("C1", "O1"): "responded_recently", ("C2", "O1"): "capacity"}
    )
    [first] = reissue_lists(warehouse, exports, [CALL_CENTER], RUN_DATE, run_id="r1")
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
    [second] = reissue_lists(warehouse, exports, [CALL_CENTER], RUN_DATE, run_id="r2")
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

    again = reissue_lists(warehouse, exports, [CALL_CENTER], RUN_DATE, run_id="r3")
    assert again[0].version == 3 and again[0].removed == 0


def test_a_revision_replaces_the_answered_pair_and_says_so_in_a_delta(tmp_path: Path) -> None:
    exports, warehouse = tmp_path / "exports", tmp_path / "warehouse.duckdb"
    write_channel_export(
        _list(), "call_center", RUN_DATE, exports, run_id="daily", config_version="v"
    )
    folder = exports / "call_center" / RUN_DATE.isoformat()
    all_eligible = {("C1", "O1"): "eligible", ("C2", "O1"): "eligible", ("C3", "O2"): "eligible"}

    # C1 accepted O1 by SMS; the configuration revises: O7 takes the call-centre slot
    answered = {**all_eligible, ("C1", "O1"): "responded_recently"}
    _warehouse(warehouse, answered, revised=[("C1", "O7", "P7", 1, 0.6)])
    [first] = reissue_lists(warehouse, exports, [CALL_CENTER], RUN_DATE, run_id="r1")
    assert (first.version, first.removed, first.added, first.rows) == (2, 1, 1, 3)
    current = pq.read_table(folder / "offers.parquet")
    assert current.schema == pq.read_table(folder / "versions" / "1" / "offers.parquet").schema
    assert _pairs(folder / "offers.parquet") == {("C1", "O7"), ("C2", "O1"), ("C3", "O2")}
    assert _delta(folder / delta_name(1)) == [
        {"customer_id": "C1", "offer_id": "O1", "reason": "responded_recently"}
    ]
    [row] = _delta(folder / revision_delta_name(1))
    assert (row["customer_id"], row["offer_id"], row["product_id"], row["rank"]) == (
        "C1",
        "O7",
        "P7",
        "1",
    )
    assert row["mobile_phone"] == "+32" and row["cell"] == "B"
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert set(manifest["revision_deltas"]) == {revision_delta_name(1)}

    # re-running the same intraday decision changes nothing
    [again] = reissue_lists(warehouse, exports, [CALL_CENTER], RUN_DATE, run_id="r1b")
    assert (again.version, again.removed, again.added) == (2, 0, 0)

    # then C1 answers O7 too, and C2's O1 is answered: version 3, no new revision
    _warehouse(
        warehouse,
        {**answered, ("C1", "O7"): "responded_recently", ("C2", "O1"): "responded_recently"},
    )
    [second] = reissue_lists(warehouse, exports, [CALL_CENTER], RUN_DATE, run_id="r2")
    assert (second.version, second.removed, second.added) == (3, 2, 0)
    assert _pairs(folder / "offers.parquet") == {("C3", "O2")}
    # the revision answered later is gone from every revision delta (nothing new since v1/v2)
    assert not (folder / revision_delta_name(1)).exists()
    assert not (folder / revision_delta_name(2)).exists()
    assert {(r["customer_id"], r["offer_id"]) for r in _delta(folder / delta_name(2))} == {
        ("C1", "O7"),
        ("C2", "O1"),
    }
