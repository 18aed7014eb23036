"""Channel exports: contract columns, no controls, atomic replace, identical re-runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cmart.config import load_config
from cmart.exports import (
    deliver_contact_history,
    export_channels,
    is_contact_history_file,
    neutralise_formulas,
    write_contact_history,
)
from cmart.settings import DEFAULT_CONFIG_DIR

RUN_DATE = dt.date(2026, 11, 29)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema decisioning")
        con.execute(
            """
            create table decisioning.nbo as
            select * from (values
                (date '2026-11-29', 'C1', 'O1', 'K1', 'P1', 'sms', 1, 0.9, 0.1, 9.0, 'A', false,
                 'c1@home.example', '+32470000001', '1 Home St', 'B1', 'R1'),
                (date '2026-11-29', 'C2', 'O1', 'K1', 'P1', 'sms', 1, 0.8, 0.1, 8.0, 'B', true,
                 'c2@home.example', '+32470000002', '2 Home St', 'B1', 'R1'),
                (date '2026-11-29', 'C3', 'O2', 'K1', 'P2', 'email', 2, 0.7, 0.1, 7.0, 'A', false,
                 '=HYPERLINK("x")', '+32470000003', '3 Home St', 'B2', 'R2'),
                (date '2026-11-28', 'C4', 'O2', 'K1', 'P2', 'sms', 1, 0.6, 0.1, 6.0, 'A', false,
                 'c4@home.example', '+32470000004', '4 Home St', 'B2', 'R2')
            ) as nbo(run_date, customer_id, offer_id, campaign_id, product_id, channel, rank,
                     score, propensity, product_value, cell, is_control, email, mobile_phone,
                     postal_address, home_branch_id, rep_id)
            """
        )
    return path


def _export(warehouse: Path, exports: Path, channels: list[str] | None = None):
    config = load_config([DEFAULT_CONFIG_DIR])
    return export_channels(
        warehouse, exports, config, RUN_DATE, run_id="test-run", channels=channels
    )


def test_sms_list_has_only_its_contact_field_and_no_control_customers(warehouse, tmp_path):
    _export(warehouse, tmp_path / "exports", ["sms"])
    folder = tmp_path / "exports" / "sms" / "2026-11-29"
    table = pq.read_table(folder / "offers.parquet")
    assert table.column_names == [
        "customer_id", "offer_id", "campaign_id", "product_id", "channel", "rank", "score",
        "cell", "mobile_phone",
    ]  # fmt: skip
    assert table.column("customer_id").to_pylist() == ["C1"]  # C2 is control, C4 another day
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert manifest["row_count"] == 1
    assert set(manifest["files"]) == {"offers.csv", "offers.parquet"}
    assert manifest["config_version"] == load_config([DEFAULT_CONFIG_DIR]).version


def test_every_configured_channel_gets_a_folder_even_when_empty(warehouse, tmp_path):
    exports = _export(warehouse, tmp_path / "exports")
    assert len(exports) == 9
    assert (tmp_path / "exports" / "atm" / "2026-11-29" / "offers.csv").exists()
    assert {e.channel: e.rows for e in exports}["email"] == 1


def test_csv_export_neutralises_formula_injection(warehouse, tmp_path):
    _export(warehouse, tmp_path / "exports", ["email"])
    folder = tmp_path / "exports" / "email" / "2026-11-29"
    csv_table = pacsv.read_csv(folder / "offers.csv")
    assert csv_table.column("email").to_pylist() == ['\'=HYPERLINK("x")']


def test_phone_numbers_are_not_mangled_by_formula_neutralising():
    import pyarrow as pa

    table = pa.table({"mobile_phone": ["+32470000001", "-5", "@cmd", "+cmd"]})
    assert neutralise_formulas(table).column(0).to_pylist() == [
        "+32470000001",
        "-5",
        "'@cmd",
        "'+cmd",
    ]


def test_rerun_replaces_folder_with_byte_identical_lists(warehouse, tmp_path):
    first = _export(warehouse, tmp_path / "exports", ["sms"])
    second = _export(warehouse, tmp_path / "exports", ["sms"])
    assert first[0].files == second[0].files
    siblings = sorted(p.name for p in (tmp_path / "exports" / "sms").iterdir())
    assert siblings == ["2026-11-29"]  # no temporary or retired folders left behind


def _write_back(warehouse: Path, tmp_path: Path):
    config = load_config([DEFAULT_CONFIG_DIR])
    return write_contact_history(
        warehouse, tmp_path / "outbox", tmp_path / "exports", config, RUN_DATE
    )


def test_contact_history_records_exported_rows_and_control_group_with_stable_ids(
    warehouse, tmp_path
):
    _export(warehouse, tmp_path / "exports", ["sms", "email"])
    written = _write_back(warehouse, tmp_path)
    assert written.path == tmp_path / "outbox" / "contacts" / "nbo_2026-11-29.parquet"
    table = pq.read_table(written.path)
    assert table.column_names == [
        "contact_id", "customer_id", "offer_id", "channel", "contacted_at", "cell",
        "is_control", "rep_id", "branch_id",
    ]  # fmt: skip
    rows = {row["customer_id"]: row for row in table.to_pylist()}
    assert set(rows) == {"C1", "C2", "C3"}  # C4 is another day
    assert rows["C2"]["is_control"] is True  # not in the sms list, but a contact
    assert rows["C1"]["contacted_at"] == dt.datetime(2026, 11, 29)
    assert rows["C1"]["rep_id"] is None  # sms lists carry no rep
    assert (written.rows, written.control_rows, written.changed) == (3, 1, True)
    assert len(set(table.column("contact_id").to_pylist())) == 3

    again = _write_back(warehouse, tmp_path)
    assert again.changed is False and again.sha256 == written.sha256


def test_contact_history_leaves_out_channels_whose_list_was_not_written(warehouse, tmp_path):
    _export(warehouse, tmp_path / "exports", ["email"])
    table = pq.read_table(_write_back(warehouse, tmp_path).path)
    assert table.column("channel").to_pylist() == ["email"]


def test_write_back_reaches_landing_only_on_a_later_day_and_only_once(warehouse, tmp_path):
    _export(warehouse, tmp_path / "exports", ["sms"])
    written = _write_back(warehouse, tmp_path)
    landing = tmp_path / "landing"
    assert deliver_contact_history(tmp_path / "outbox", landing, RUN_DATE) == []
    delivered = deliver_contact_history(tmp_path / "outbox", landing, RUN_DATE.replace(day=30))
    assert delivered == [landing / "contacts" / written.path.name]
    assert delivered[0].read_bytes() == written.path.read_bytes()
    assert is_contact_history_file(delivered[0])
    mtime = delivered[0].stat().st_mtime_ns
    assert deliver_contact_history(tmp_path / "outbox", landing, RUN_DATE.replace(day=30)) == []
    assert delivered[0].stat().st_mtime_ns == mtime  # untouched: the loader skips it by sha256
