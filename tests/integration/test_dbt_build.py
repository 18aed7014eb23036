"""A real `dbt build` (models, data tests, unit tests) on a generated, loaded world.

By default the build is the session's daily run (the pipeline's own `dbt build` of every model,
seed, snapshot and data test, through dagster-dbt) plus the project's dbt unit tests, which the
pipeline leaves out, run on a copy of its warehouse. The `heavy` variant builds everything once
more, standalone, on a second world (another seed and size).

The checks on `nbo` are written independently of the dbt models: they read the raw and config
schemas directly and re-derive the rules from CONTRACTS.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from cmart.config import load_config, write_config_tables
from cmart.settings import DBT_PROJECT_DIR, Settings
from tests.conftest import RUN_DATE, PipelineRun, copy_into_bench

pytestmark = pytest.mark.slow

WORLD = {"customers": 2_000, "seed": 11, "days": 60, "dirty_rate": 0.02}
NBO_COLUMNS = {
    "run_date": "DATE",
    "customer_id": "VARCHAR",
    "offer_id": "VARCHAR",
    "campaign_id": "VARCHAR",
    "product_id": "VARCHAR",
    "channel": "VARCHAR",
    "rank": "INTEGER",
    "score": "DOUBLE",
    "propensity": "DOUBLE",
    "product_value": "DOUBLE",
    "cell": "VARCHAR",
    "is_control": "BOOLEAN",
    "email": "VARCHAR",
    "mobile_phone": "VARCHAR",
    "postal_address": "VARCHAR",
    "home_branch_id": "VARCHAR",
    "rep_id": "VARCHAR",
}


@dataclass(frozen=True)
class DbtBuild:
    warehouse_path: Path
    returncode: int
    output: str
    results: list[dict]
    seconds: float


def _dbt(settings: Settings, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    """`dbt <args>` as the pipeline runs it, against the settings' warehouse."""
    dbt = Path(sys.executable).parent / "dbt"
    target = settings.dbt_target_dir
    env = {**os.environ, "CMART_WAREHOUSE_PATH": str(settings.warehouse_path)}
    command = [
        str(dbt),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(settings.dbt_log_dir),
        "--vars",
        json.dumps({"run_date": settings.run_date.isoformat()}),
    ]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    run_results = target / "run_results.json"
    results = json.loads(run_results.read_text())["results"] if run_results.exists() else []
    return completed, results


def run_dbt_build(settings: Settings) -> DbtBuild:
    """`dbt build` exactly as the pipeline runs it, against the settings' warehouse."""
    started = time.perf_counter()
    completed, results = _dbt(settings, "build")
    return DbtBuild(
        warehouse_path=settings.warehouse_path,
        returncode=completed.returncode,
        output=completed.stdout + completed.stderr,
        results=results,
        seconds=time.perf_counter() - started,
    )


def daily_build_and_unit_tests(daily_run: PipelineRun, bench: Settings) -> DbtBuild:
    """The daily run's `dbt build` (every model, seed, snapshot and data test) and the project's
    unit tests, run on a copy of the daily run's warehouse (the session's stays untouched)."""
    assert daily_run.success, "the daily run (and its dbt build) failed"
    build_results = daily_run.settings.dbt_target_dir / "build" / "run_results.json"
    results = json.loads(build_results.read_text())["results"]
    copy_into_bench(daily_run.settings.warehouse_path, bench)
    started = time.perf_counter()
    completed, unit_results = _dbt(bench, "test", "--select", "test_type:unit")
    assert unit_results, (completed.stdout + completed.stderr)[-5000:]
    return DbtBuild(
        warehouse_path=daily_run.settings.warehouse_path,  # the one the daily build wrote
        returncode=completed.returncode,
        output=completed.stdout + completed.stderr,
        results=results + unit_results,
        seconds=time.perf_counter() - started,
    )


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("daily_run", id="daily_run_world"),
        pytest.param("second_world", id="second_world", marks=pytest.mark.heavy),
    ],
)
def dbt_build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> DbtBuild:
    if request.param == "daily_run":
        bench = request.getfixturevalue("dbt_bench")
        return daily_build_and_unit_tests(request.getfixturevalue("daily_run"), bench)

    from cmart.generate import generate_world
    from loaders import load_landing

    settings = Settings(data_dir=tmp_path_factory.mktemp("dbt_world"), run_date=RUN_DATE)
    generate_world(settings, end_date=RUN_DATE, progress=lambda _: None, **WORLD)
    config = load_config(settings.config_dirs)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    load_landing(settings.warehouse_path, settings.landing_dir, config, progress=lambda _: None)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        write_config_tables(con, config)
    return run_dbt_build(settings)


def query(build: DbtBuild, sql: str) -> list[tuple]:
    with duckdb.connect(str(build.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_dbt_build_passes_every_model_and_test(dbt_build: DbtBuild):
    assert dbt_build.returncode == 0, dbt_build.output[-5000:]
    failed = [
        r["unique_id"] for r in dbt_build.results if r["status"] not in {"success", "pass", "warn"}
    ]
    assert not failed, failed
    # dirty data may orphan a few foreign keys: only those (severity warn) tests may warn
    warned = [r["unique_id"] for r in dbt_build.results if r["status"] == "warn"]
    assert all(uid.startswith("test.campaign_mart.relationships_") for uid in warned), warned
    kinds = {r["unique_id"].split(".")[0] for r in dbt_build.results}
    assert {"model", "test", "unit_test"} <= kinds


def test_nbo_has_offers_for_many_customers_and_the_export_columns(dbt_build: DbtBuild):
    [(rows, customers)] = query(
        dbt_build, "select count(*), count(distinct customer_id) from decisioning.nbo"
    )
    assert rows > 0
    assert customers > 100
    columns = query(
        dbt_build,
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'decisioning' and table_name = 'nbo' order by ordinal_position",
    )
    assert dict(columns) == NBO_COLUMNS
    assert [name for name, _ in columns] == list(NBO_COLUMNS)


def test_nbo_ranks_at_most_top_n_offers_per_customer(dbt_build: DbtBuild):
    [(top_n,)] = query(dbt_build, "select top_n_offers from config.decision_settings")
    [(max_rank, max_per_customer, min_rank)] = query(
        dbt_build,
        """
        select max(rank), max(n_offers), min(rank)
        from (
            select customer_id, rank, count(*) over (partition by customer_id) as n_offers
            from decisioning.nbo
        ) as per_customer
        """,
    )
    assert min_rank == 1
    assert max_rank <= top_n
    assert max_per_customer <= top_n


# The consent rule re-derived from raw consents (CONTRACTS.md): latest event per (customer,
# channel, topic); an `all` opt-out beats everything; a topic opt-out removes that category;
# requires-opt-in channels need an opt-in for `all` or for the category.
CONSENT_VIOLATIONS = f"""
with
latest_consent as (
    select customer_id, channel, topic, status
    from (
        select
            trim(customer_id) as customer_id,
            lower(trim(channel)) as channel,
            coalesce(nullif(lower(trim(topic)), ''), 'all') as topic,
            lower(trim(status)) as status,
            row_number() over (
                partition by trim(customer_id), lower(trim(channel)),
                    coalesce(nullif(lower(trim(topic)), ''), 'all')
                order by recorded_at desc, _loaded_at desc, _file desc, _row desc
            ) as recency
        from raw.consents
        where recorded_at < date '{RUN_DATE.isoformat()}' + interval 1 day
    ) as versions
    where recency = 1
),
product_category as (
    select product_id, category
    from (
        select trim(product_id) as product_id, lower(trim(category)) as category,
            row_number() over (
                partition by trim(product_id) order by _loaded_at desc, _file desc, _row desc
            ) as recency
        from raw.products
    ) as versions
    where recency = 1
),
checked as (
    select
        nbo.customer_id,
        nbo.offer_id,
        nbo.channel,
        channels.requires_opt_in,
        consent_all.status as status_all,
        consent_topic.status as status_topic
    from decisioning.nbo as nbo
    inner join product_category on nbo.product_id = product_category.product_id
    inner join config.channels as channels on nbo.channel = channels.channel_code
    left join latest_consent as consent_all
        on nbo.customer_id = consent_all.customer_id
        and nbo.channel = consent_all.channel
        and consent_all.topic = 'all'
    left join latest_consent as consent_topic
        on nbo.customer_id = consent_topic.customer_id
        and nbo.channel = consent_topic.channel
        and consent_topic.topic = product_category.category
)
select customer_id, offer_id, channel, requires_opt_in, status_all, status_topic
from checked
where status_all = 'opt_out'
    or status_topic = 'opt_out'
    or (requires_opt_in and coalesce(status_all, '') <> 'opt_in'
        and coalesce(status_topic, '') <> 'opt_in')
"""


def test_every_nbo_row_is_allowed_by_the_customers_consent(dbt_build: DbtBuild):
    violations = query(dbt_build, CONSENT_VIOLATIONS + " limit 10")
    assert violations == []
    [(opt_in_channel_rows,)] = query(
        dbt_build,
        "select count(*) from decisioning.nbo as nbo inner join config.channels as channels "
        "on nbo.channel = channels.channel_code where channels.requires_opt_in",
    )
    assert opt_in_channel_rows > 0, "the check must also cover opt-in channels"


def test_no_nbo_offer_is_for_a_product_the_customer_holds(dbt_build: DbtBuild):
    held = query(
        dbt_build,
        """
        with latest_holding as (
            select customer_id, product_id, status
            from (
                select trim(customer_id) as customer_id, trim(product_id) as product_id,
                    lower(trim(status)) as status,
                    row_number() over (
                        partition by trim(customer_id), trim(product_id), opened_at
                        order by _loaded_at desc, _file desc, _row desc
                    ) as recency
                from raw.holdings
            ) as versions
            where recency = 1
        )
        select nbo.customer_id, nbo.product_id
        from decisioning.nbo as nbo
        inner join latest_holding
            on nbo.customer_id = latest_holding.customer_id
            and nbo.product_id = latest_holding.product_id
        where latest_holding.status = 'active'
        limit 10
        """,
    )
    assert held == []


def test_every_nbo_product_is_on_the_customers_segment_path(dbt_build: DbtBuild):
    off_path = query(
        dbt_build,
        """
        select nbo.customer_id, nbo.product_id, customers.segment_code
        from decisioning.nbo as nbo
        inner join core.dim_customer as customers on nbo.customer_id = customers.customer_id
        left join config.product_paths as paths
            on customers.segment_code = paths.segment_code
            and nbo.product_id = paths.product_id
        where paths.product_id is null
        limit 10
        """,
    )
    assert off_path == []
