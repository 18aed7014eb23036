"""The whole graph, materialised for real: landing files → raw → dbt → channel lists."""

from __future__ import annotations

import json

import duckdb
import pyarrow.parquet as pq
import pytest

from cmart.config import load_config

pytestmark = pytest.mark.slow


def test_materialising_the_whole_graph_writes_a_list_for_every_channel(daily_run):
    assert daily_run.success
    settings = daily_run.settings
    config = load_config(settings.config_dirs)
    day = settings.run_date.isoformat()
    for channel in config.channel_codes:
        folder = settings.exports_dir / channel / day
        manifest = json.loads((folder / "_manifest.json").read_text())
        table = pq.read_table(folder / "offers.parquet")
        assert manifest["row_count"] == table.num_rows
        assert manifest["config_version"] == config.version
        assert manifest["run_id"] == daily_run.run_id
    total = sum(
        json.loads((settings.exports_dir / c / day / "_manifest.json").read_text())["row_count"]
        for c in config.channel_codes
    )
    assert total > 0


def _customers_without_sms_opt_in(landing_dir) -> set[str]:
    """From the landing files alone (independent of dbt): customers who never opted in to SMS,
    or whose latest SMS event for topic `all` is an opt-out."""
    pattern = str(landing_dir / "consents" / "*")
    with duckdb.connect() as con:
        rows = con.execute(
            f"""
            with consent as (
                select trim(customer_id) as customer_id, lower(trim(channel)) as channel,
                       coalesce(lower(trim(topic)), 'all') as topic, lower(trim(status)) as status,
                       try_cast(recorded_at as timestamp) as recorded_at
                from read_csv('{pattern}', all_varchar = true, union_by_name = true)
                -- an event without a readable time is quarantined by the loader, as here
                where try_cast(recorded_at as timestamp) is not null
            ),
            latest as (
                select * from consent
                qualify row_number() over (
                    partition by customer_id, channel, topic order by recorded_at desc
                ) = 1
            ),
            opted_in as (
                select distinct customer_id from latest
                where channel = 'sms' and status = 'opt_in'
            ),
            opted_out_all as (
                select distinct customer_id from latest
                where channel = 'sms' and topic = 'all' and status = 'opt_out'
            ),
            customers as (
                select distinct customer_id
                from read_csv('{landing_dir / "customers" / "*"}', all_varchar = true,
                              union_by_name = true)
            )
            select customer_id from customers
            where customer_id not in (select customer_id from opted_in)
            union
            select customer_id from opted_out_all
            """
        ).fetchall()
    return {row[0] for row in rows}


def test_customer_without_sms_consent_is_in_no_sms_list(daily_run):
    settings = daily_run.settings
    forbidden = _customers_without_sms_opt_in(settings.landing_dir)
    assert forbidden, "the generated world must contain customers without SMS consent"
    sms = pq.read_table(
        settings.exports_dir / "sms" / settings.run_date.isoformat() / "offers.parquet"
    )
    listed = set(sms.column("customer_id").to_pylist())
    assert listed, "the SMS list should not be empty in the demo world"
    assert not listed & forbidden


def test_control_group_customers_are_not_in_any_list(daily_run):
    settings = daily_run.settings
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        controls = con.execute(
            "select customer_id, offer_id from decisioning.nbo where is_control"
        ).fetchall()
    assert controls, "some chosen offers should fall in the control group"
    exported = set()
    for path in settings.exports_dir.glob(f"*/{settings.run_date.isoformat()}/offers.parquet"):
        table = pq.read_table(path, columns=["customer_id", "offer_id"])
        exported |= set(
            zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True)
        )
    assert not exported & set(controls)
