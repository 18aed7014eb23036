"""The loop closes: the day's contact history (exported rows and control group) is loaded by
the next day's run and counted exactly once in fct_contact, however often the day was run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from cmart.exports import deliver_contact_history
from cmart.settings import Settings
from tests.integration.test_exports_gate import copy_daily_run, run_lists

pytestmark = pytest.mark.slow

# the next day's steps that carry contacts: write-back delivery, raw load, staging to the fact
NEXT_DAY_STEPS = {
    "contact_history",
    "contacts",
    "stg_campaign__contacts",
    "int_contact_segmented",
    "fct_contact",
}


def run_next_day_contacts(settings: Settings) -> dg.ExecuteInProcessResult:
    from pipelines.assemble import build_definitions

    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    keys = {
        key
        for key in graph.get_all_asset_keys()
        if key.path[-1] in NEXT_DAY_STEPS and key.path[0] != "exports"
    }
    assert len(keys) == len(NEXT_DAY_STEPS)
    job = defs.resolve_job_def("daily").get_subset(asset_selection=keys)
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=settings.run_date.isoformat(),
        raise_on_error=False,
    )


def _exported_rows(exports_dir: Path, day: dt.date) -> int:
    return sum(
        pq.read_metadata(path).num_rows
        for path in exports_dir.glob(f"*/{day.isoformat()}/offers.parquet")
    )


def test_next_day_loads_the_days_contacts_exactly_once_after_reruns(daily_run, tmp_path):
    settings = copy_daily_run(daily_run, tmp_path, with_dbt=True)
    day = settings.run_date
    assert run_lists(settings).success  # the day's lists written a second time
    write_back = settings.outbox_dir / "contacts" / f"nbo_{day.isoformat()}.parquet"
    contacts = pq.read_table(write_back)
    ids = contacts.column("contact_id").to_pylist()
    n_control = sum(contacts.column("is_control").to_pylist())
    assert n_control > 0  # the control group is recorded, though never in a list
    assert len(ids) - n_control == _exported_rows(settings.exports_dir, day)

    next_day = Settings(data_dir=settings.data_dir, run_date=day + dt.timedelta(days=1))
    result = run_next_day_contacts(next_day)

    assert result.success
    landed = settings.landing_dir / "contacts" / write_back.name
    assert landed.read_bytes() == write_back.read_bytes()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.execute("create temp table written as select * from read_parquet(?)", [str(landed)])
        loaded = con.execute(
            "select count(*) from raw.contacts where contact_id in (select contact_id from written)"
        ).fetchall()[0][0]
        facts = con.execute(
            """
            select count(*), count(distinct contact_id),
                count(distinct (customer_id, offer_id, channel)),
                sum(case when is_control then 1 else 0 end),
                min(contact_date), max(contact_date)
            from campaign.fct_contact
            where contact_id in (select contact_id from written)
            """
        ).fetchall()[0]
    assert loaded == len(ids)
    assert facts == (len(ids), len(ids), len(ids), n_control, day, day)
    # the next day's re-run delivers nothing new: the loader's checksum would skip it anyway
    assert (
        deliver_contact_history(settings.outbox_dir, settings.landing_dir, next_day.run_date) == []
    )
