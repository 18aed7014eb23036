"""The mart on dirty data (--dirty-rate 0.02): loaders → config → dbt, as the pipeline runs
them. Nothing is lost between the landing files and the facts, rejected rows are accounted
for in quarantine, and facts still join every dimension. (test_dbt_build runs every data
test and unit test on dirty data; here only the models are checked.)

By default the dirty world is the session's daily run (SMALL_WORLD has 2% dirty rows of every
fault kind; its models, seeds and snapshot were built by the pipeline's own `dbt build`). The
`heavy` variant generates a second dirty world (another seed, size and history length), loads
it and builds its models standalone."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest

from cmart.config import load_config, write_config_tables
from cmart.settings import Settings
from tests.conftest import RUN_DATE, PipelineRun
from tests.integration.test_mart_incremental import build_models

pytestmark = pytest.mark.slow

DIRTY_WORLD = {"customers": 1_500, "seed": 23, "days": 30, "dirty_rate": 0.02}


def _daily_run_statuses(daily_run: PipelineRun) -> dict[str, str]:
    """The status of every model, seed and snapshot in the daily run's `dbt build`, by name."""
    path = daily_run.settings.dbt_target_dir / "build" / "run_results.json"
    results = json.loads(path.read_text())["results"]
    built = ("model.", "seed.", "snapshot.")
    return {
        result["unique_id"].split(".")[-1]: result["status"]
        for result in results
        if result["unique_id"].startswith(built)
    }


def _build_second_dirty_world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from cmart.generate import generate_world
    from loaders import load_landing

    settings = Settings(data_dir=tmp_path_factory.mktemp("dirty_mart"), run_date=RUN_DATE)
    generate_world(settings, end_date=RUN_DATE, progress=lambda _: None, **DIRTY_WORLD)
    config = load_config(settings.config_dirs)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    load_landing(settings.warehouse_path, settings.landing_dir, config, progress=lambda _: None)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        write_config_tables(con, config)
    return settings


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("daily_run", id="daily_run_world"),
        pytest.param("second_world", id="second_world", marks=pytest.mark.heavy),
    ],
)
def dirty_build(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, dict[str, str]]:
    if request.param == "daily_run":
        daily_run = request.getfixturevalue("daily_run")
        assert daily_run.success
        return daily_run.settings, _daily_run_statuses(daily_run)
    settings = _build_second_dirty_world(tmp_path_factory)
    return settings, build_models(settings)


def _read_landing(path: Path) -> pa.Table:
    """A landing file as strings, in file order (whatever its format)."""
    name = path.name
    if name.endswith(".parquet"):
        table = pq.read_table(path)
    elif name.endswith(".jsonl"):
        table = pa_json.read_json(path)
    else:
        table = pa_csv.read_csv(
            path, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True)
        )
    return pa.table(
        {column: table.column(column).cast(pa.string()) for column in table.column_names}
    )


def _landing_responses(landing_dir: Path) -> pa.Table:
    """Every response row of every landing file, with its file and 1-based data row number,
    as the loaders name them in quarantine (`responses/<file>`, row)."""
    parts = []
    for path in sorted((landing_dir / "responses").iterdir()):
        table = _read_landing(path)
        parts.append(
            pa.table(
                {
                    "file": pa.repeat(f"responses/{path.name}", table.num_rows),
                    "row": pa.array(range(1, table.num_rows + 1), pa.int64()),
                    "response_id": pc.utf8_trim_whitespace(table.column("response_id")),
                    "response_type": pc.utf8_lower(
                        pc.utf8_trim_whitespace(table.column("response_type"))
                    ),
                }
            )
        )
    return pa.concat_tables(parts)


def _soft_or_hard_responses_lost(settings: Settings) -> tuple[int, list[tuple]]:
    """(soft/hard landing responses, those neither in fct_response nor in quarantine)."""
    landing = _landing_responses(settings.landing_dir)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.register("landing_responses", landing)
        [(n_soft_or_hard,)] = con.execute(
            """
            select count(*) from landing_responses
            inner join config.response_types using (response_type)
            where response_class in ('soft', 'hard')
            """
        ).fetchall()
        lost = con.execute(
            """
            select landing.file, landing.row, landing.response_id
            from landing_responses as landing
            inner join config.response_types using (response_type)
            where response_class in ('soft', 'hard')
                and landing.response_id not in (select response_id from campaign.fct_response)
                and (landing.file, landing.row) not in (
                    select (file, row) from raw._quarantine where source = 'responses'
                )
            limit 20
            """
        ).fetchall()
    return n_soft_or_hard, lost


def test_every_model_and_snapshot_builds_on_dirty_data(dirty_build):
    _, statuses = dirty_build
    assert statuses["customer_360"] == statuses["snp_customer_profile"] == "success"
    assert {status for status in statuses.values()} == {"success"}


def test_every_soft_or_hard_landing_response_is_in_fct_response_or_quarantine(dirty_build):
    settings, _ = dirty_build
    n_soft_or_hard, lost = _soft_or_hard_responses_lost(settings)
    assert n_soft_or_hard > 0
    assert lost == []
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        [(quarantined,)] = con.execute(
            "select count(*) from raw._quarantine where source = 'responses'"
        ).fetchall()
    assert quarantined > 0, "the dirty world must exercise the quarantine path"


def test_every_soft_or_hard_response_of_the_daily_run_is_in_fct_response(daily_run):
    assert daily_run.success
    n_soft_or_hard, lost = _soft_or_hard_responses_lost(daily_run.settings)
    assert n_soft_or_hard > 0
    assert lost == []


def test_rejected_dimension_rows_become_inferred_members_facts_still_join(dirty_build):
    settings, _ = dirty_build
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        inferred_customers, contacts, contacts_joined = con.execute(
            """
            select
                (select count(*) from core.dim_customer where is_inferred),
                (select count(*) from campaign.fct_contact),
                (select count(*) from campaign.fct_contact
                 inner join core.dim_customer using (customer_id)
                 inner join core.dim_offer using (offer_id)
                 inner join core.dim_channel on channel = channel_code)
            """
        ).fetchone()
        inferred_in_360 = con.execute(
            """
            select count(*) from core.customer_360
            inner join core.dim_customer using (customer_id)
            where dim_customer.is_inferred
            """
        ).fetchone()[0]
    assert inferred_customers > 0
    assert contacts == contacts_joined > 0
    assert inferred_in_360 == 0


def test_identity_resolution_never_picks_another_customer_than_planted(dirty_build):
    settings, _ = dirty_build
    truth = settings.truth_dir / "identity_matches.csv"
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        wrong, agreeing, total = con.execute(
            f"""
            with truth as (
                select crm_id, customer_id from read_csv('{truth}', all_varchar = true)
            ),
            resolved as (
                select source_record_id as crm_id, customer_id
                from intermediate.int_customer_identity_resolved
                where source_system = 'crm'
            )
            select
                count(*) filter (
                    where resolved.customer_id is not null
                    and resolved.customer_id is distinct from truth.customer_id
                ),
                count(*) filter (where resolved.customer_id is not distinct from truth.customer_id),
                count(*)
            from resolved
            inner join truth using (crm_id)
            """
        ).fetchone()
    # dirt (a rejected customer row, a rejected update) can only lose a match, never swap one
    assert wrong == 0
    assert agreeing >= 0.95 * total
