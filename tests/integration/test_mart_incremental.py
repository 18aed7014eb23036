"""Incremental facts and customer history across runs, on a copy of the daily run's warehouse.

Day 2 brings late and corrected rows straight into raw (as the loaders would): the facts merge
them without rebuilding history, the snapshot opens a new customer version, and a response
whose contact arrives a day later is attributed on the day the contact arrives.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from cmart.settings import DBT_PROJECT_DIR, Settings
from tests.conftest import RUN_DATE

pytestmark = pytest.mark.slow

DAY_2 = RUN_DATE + dt.timedelta(days=1)
LATE_CONTACT = "CT_TEST_LATE"
NEW_CONTACT = "CT_TEST_DAY2"
LATE_RESPONSE = "RS_TEST_LATE"
# what a day's run rebuilds for these tests: the facts, the customer history and their parents
FACTS_AND_HISTORY = ("+fct_contact", "+fct_response", "+dim_customer")


@dataclass(frozen=True)
class Scenario:
    customer_id: str  # moves to Testville on day 2
    old_contact_id: str  # one of the customer's contacts before day 2
    offer_id: str
    corrected_contact_id: str  # a new version of it arrives on day 2 (cell Z)
    tampered_contact_id: str  # edited in fct_contact: must survive an incremental run


def _insert(con: duckdb.DuckDBPyConnection, table: str, select_sql: str) -> None:
    con.execute(
        f"insert into raw.{table} by name "
        f"select *, now()::timestamp as _loaded_at, 'test' as _batch_id, "
        f"'test/{table}.csv' as _file, 1 as _row from ({select_sql})"
    )


def build_models(settings: Settings, select: tuple[str, ...] = ()) -> dict[str, str]:
    """`dbt build` of models, snapshots and seeds only (their data tests and unit tests run in
    test_dbt_build), as the pipeline runs it; returns the status of every node by name."""
    target = settings.dbt_target_dir
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "build",
        "--exclude-resource-type",
        "test",
        "unit_test",
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
    if select:
        command += ["--select", *select]
    env = {**os.environ, "CMART_WAREHOUSE_PATH": str(settings.warehouse_path)}
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-5000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {result["unique_id"].split(".")[-1]: result["status"] for result in results}


def _build(settings: Settings) -> dict[str, str]:
    return build_models(settings, FACTS_AND_HISTORY)


@pytest.fixture(scope="module")
def two_days(daily_run, tmp_path_factory: pytest.TempPathFactory):
    assert daily_run.success
    settings = Settings(data_dir=tmp_path_factory.mktemp("incremental"), run_date=DAY_2)
    settings.warehouse_dir.mkdir(parents=True)
    shutil.copy(daily_run.settings.warehouse_path, settings.warehouse_path)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        customer_id, old_contact_id, offer_id = con.execute(
            """
            select customer_id, contact_id, offer_id from campaign.fct_contact
            inner join core.dim_customer using (customer_id)
            where not is_inferred and not is_control
            order by contact_id limit 1
            """
        ).fetchone()
        corrected, tampered = (
            row[0]
            for row in con.execute(
                "select contact_id from campaign.fct_contact "
                "where customer_id <> ? order by contact_id desc limit 2",
                [customer_id],
            ).fetchall()
        )
        scenario = Scenario(customer_id, old_contact_id, offer_id, corrected, tampered)
        con.execute(
            "update campaign.fct_contact set cell = 'TAMPERED' where contact_id = ?", [tampered]
        )
        # day 2: the customer moves, contacts and a response arrive (its contact does not yet)
        _insert(
            con,
            "customers",
            f"""
            select * exclude (city, region, updated_at, _extra, _file, _row, _loaded_at, _batch_id),
                'Testville' as city, 'Testregion' as region,
                timestamp '{DAY_2} 08:00:00' as updated_at
            from raw.customers where customer_id = '{customer_id}'
            order by updated_at desc limit 1
            """,
        )
        _insert(
            con,
            "contacts",
            f"""
            select '{NEW_CONTACT}' as contact_id, '{customer_id}' as customer_id,
                '{offer_id}' as offer_id, 'branch' as channel,
                timestamp '{DAY_2} 10:00:00' as contacted_at, 'A' as cell, false as is_control
            union all
            select contact_id, customer_id, offer_id, channel, contacted_at, 'Z' as cell, is_control
            from raw.contacts where contact_id = '{corrected}'
            """,
        )
        _insert(
            con,
            "responses",
            f"""
            select '{LATE_RESPONSE}' as response_id, '{customer_id}' as customer_id,
                '{offer_id}' as offer_id, 'email' as channel, 'accepted' as response_type,
                timestamp '{RUN_DATE - dt.timedelta(days=9)} 12:00:00' as responded_at,
                '{LATE_CONTACT}' as contact_id
            """,
        )
    day_2 = _build(settings)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        after_day_2 = con.execute(
            f"select contact_id, attribution_status, unattributed_reason "
            f"from campaign.fct_response where response_id = '{LATE_RESPONSE}'"
        ).fetchone()
        # the contact the response names arrives a day late
        _insert(
            con,
            "contacts",
            f"""
            select '{LATE_CONTACT}' as contact_id, '{customer_id}' as customer_id,
                '{offer_id}' as offer_id, 'email' as channel,
                timestamp '{RUN_DATE - dt.timedelta(days=10)} 09:00:00' as contacted_at,
                'A' as cell, false as is_control
            """,
        )
    _build(settings)
    return settings, scenario, day_2, after_day_2


def _query(settings: Settings, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_facts_are_merged_not_rebuilt(two_days):
    settings, scenario, day_2, _ = two_days
    assert day_2["fct_contact"] == day_2["fct_response"] == "success"
    # a row of history the run had no reason to touch keeps its (tampered) value
    [(cell,)] = _query(
        settings,
        "select cell from campaign.fct_contact where contact_id = ?",
        scenario.tampered_contact_id,
    )
    assert cell == "TAMPERED"


def test_corrected_contact_replaces_its_earlier_version(two_days):
    settings, scenario, _, _ = two_days
    rows = _query(
        settings,
        "select cell from campaign.fct_contact where contact_id = ?",
        scenario.corrected_contact_id,
    )
    assert rows == [("Z",)]


def test_late_contact_is_added_and_facts_keep_their_grain(two_days):
    settings, _, _, _ = two_days
    [(late,)] = _query(
        settings, "select count(*) from campaign.fct_contact where contact_id = ?", LATE_CONTACT
    )
    assert late == 1
    for table, key in (
        ("campaign.fct_contact", "contact_id"),
        ("campaign.fct_response", "response_id"),
    ):
        [(rows, keys)] = _query(settings, f"select count(*), count(distinct {key}) from {table}")
        assert rows == keys


def test_response_is_attributed_once_its_late_contact_arrives(two_days):
    settings, _, _, after_day_2 = two_days
    # on day 2 the named contact is unknown: matched to another contact in the window, or none
    assert after_day_2[0] != LATE_CONTACT
    assert after_day_2[1] in {"matched", "unattributed"}
    [row] = _query(
        settings,
        "select contact_id, attribution_status, response_lag_days from campaign.fct_response "
        "where response_id = ?",
        LATE_RESPONSE,
    )
    assert row == (LATE_CONTACT, "given", 1)


def test_customer_attributes_are_read_as_of_the_contact(two_days):
    settings, scenario, _, _ = two_days
    versions = _query(
        settings,
        "select version_number, city, is_current, valid_from from core.dim_customer_history "
        "where customer_id = ? order by version_number",
        scenario.customer_id,
    )
    assert [(number, city, current) for number, city, current, _ in versions] == [
        (1, versions[0][1], False),
        (2, "Testville", True),
    ]
    assert versions[0][1] != "Testville"
    assert versions[1][3] == dt.datetime.combine(DAY_2, dt.time())
    cities = dict(
        _query(
            settings,
            """
            select contacts.contact_id, versions.city
            from campaign.fct_contact as contacts
            inner join core.dim_customer_history as versions using (customer_history_sk)
            where contacts.contact_id in (?, ?)
            """,
            scenario.old_contact_id,
            NEW_CONTACT,
        )
    )
    assert cities == {scenario.old_contact_id: versions[0][1], NEW_CONTACT: "Testville"}
    [(current_city,)] = _query(
        settings, "select city from core.dim_customer where customer_id = ?", scenario.customer_id
    )
    assert current_city == "Testville"
