"""The consent gate and the day's lists, executed by Dagster on a copy of the daily run:
on clean data the gate passes and a re-run rewrites byte-identical lists and contact history;
one violating nbo row fails the gate and no list is written."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cmart.config import load_config
from cmart.settings import Settings
from pipelines.defs.decisioning.checks import consent_gate
from pipelines.defs.exports.assets import (
    NBO_KEY,
    SALES_FORCE_LIST_KEY,
    build_contact_history_asset,
    build_export_assets,
    sales_force_export,
)
from pipelines.lib.resources import CampaignMartResource

pytestmark = pytest.mark.slow

GATE = dg.AssetCheckKey(NBO_KEY, "consent_gate")


def copy_daily_run(daily_run, tmp_path: Path, *, with_dbt: bool = False) -> Settings:
    """A copy of the daily run's data dir (the dbt artifacts only when dbt will run again)."""
    assert daily_run.success
    data_dir = tmp_path / "data"
    skipped = ("*.lock", "dagster", "published", *(() if with_dbt else ("dbt",)))
    shutil.copytree(daily_run.settings.data_dir, data_dir, ignore=shutil.ignore_patterns(*skipped))
    return Settings(data_dir=data_dir, run_date=daily_run.settings.run_date)


def run_lists(settings: Settings) -> dg.ExecuteInProcessResult:
    """The consent gate and every export of the day, with the real assets and check (the dbt
    models upstream are already built in the copied warehouse)."""
    config = load_config(settings.config_dirs)
    defs = dg.Definitions(
        assets=[
            dg.AssetSpec(NBO_KEY),
            dg.AssetSpec(SALES_FORCE_LIST_KEY, deps=[NBO_KEY]),
            build_export_assets(config),
            sales_force_export,
            build_contact_history_asset(config),
        ],
        asset_checks=[consent_gate],
        resources={"cmart": CampaignMartResource(data_dir=str(settings.data_dir))},
    )
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=set(
            dg.AssetSelection.groups("exports").resolve(defs.resolve_asset_graph())
        ),
        asset_check_selection={GATE},
    )
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=settings.run_date.isoformat(),
        raise_on_error=False,
    )


def gate_evaluation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = [
        event.event_specific_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
        and event.event_specific_data.asset_check_key == GATE
    ]
    return evaluation


def list_digests(settings: Settings) -> dict[str, str]:
    day = settings.run_date.isoformat()
    files = [
        *settings.exports_dir.glob(f"*/{day}/*.csv"),
        *settings.exports_dir.glob(f"*/{day}/*.parquet"),
        *settings.outbox_dir.glob(f"contacts/nbo_{day}.parquet"),
    ]
    return {
        str(path.relative_to(settings.data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(files)
    }


def test_gate_passes_on_clean_data_and_rerun_rewrites_identical_lists(daily_run, tmp_path):
    settings = copy_daily_run(daily_run, tmp_path)
    before = list_digests(settings)
    assert len(before) == 9 * 2 + 2 + 1  # channels, sales force (CSV + Parquet), contacts

    result = run_lists(settings)

    assert result.success
    evaluation = gate_evaluation(result)
    assert evaluation.passed
    assert evaluation.metadata["violating_rows"].value == 0
    assert evaluation.metadata["rows_checked"].value > 500
    assert list_digests(settings) == before


def _insert_violating_rows(warehouse: Path, run_date: dt.date) -> str:
    """One non-control SMS row for a customer whose current SMS consent is an `all` opt-out,
    and the same kind of row in the control group (never sent: must not count)."""
    with duckdb.connect(str(warehouse)) as con:
        opted_out = con.execute(
            """
            select customer_id
            from staging.stg_crm__consents
            where channel = 'sms' and topic = 'all' and recorded_at < ? + interval 1 day
            qualify row_number() over (
                partition by customer_id order by recorded_at desc, status desc
            ) = 1 and status = 'opt_out'
            order by customer_id
            limit 2
            """,
            [run_date],
        ).fetchall()
        assert len(opted_out) == 2, "the world needs two customers who opted out of SMS"
        template = (
            "select * replace (? as customer_id, 'sms' as channel, 99 as rank, ? as is_control)"
        )
        for (customer_id,), is_control in zip(opted_out, (False, True), strict=True):
            con.execute(
                f"insert into decisioning.nbo {template} from decisioning.nbo "
                "where run_date = ? and not is_control limit 1",
                [customer_id, is_control, run_date],
            )
        return opted_out[0][0]


def test_gate_fails_on_a_consent_violation_and_no_list_is_written(daily_run, tmp_path):
    settings = copy_daily_run(daily_run, tmp_path)
    shutil.rmtree(settings.exports_dir)
    shutil.rmtree(settings.outbox_dir / "contacts")
    violator = _insert_violating_rows(settings.warehouse_path, settings.run_date)

    result = run_lists(settings)

    assert not result.success
    evaluation = gate_evaluation(result)
    assert not evaluation.passed
    assert evaluation.metadata["violating_rows"].value == 1
    assert evaluation.metadata["by_reason"].value == {"no_consent": 1}
    assert evaluation.metadata["sample"].value[0]["customer_id"] == violator
    materialized = {
        event.asset_key
        for event in result.all_events
        if event.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert materialized == set()
    assert not settings.exports_dir.exists()  # no channel list, no sales-force list
    assert not (settings.outbox_dir / "contacts").exists()  # and no contact history
