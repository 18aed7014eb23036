"""Publishing: a complete new snapshot replaces the old one; open readers are not disturbed."""

from __future__ import annotations

import datetime as dt

import duckdb

from cmart.publish import publish_snapshot, snapshot_run_date


def _warehouse(path, rows: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists core")
        con.execute("create schema if not exists staging")
        con.execute(f"create or replace table core.dim_x as select range as id from range({rows})")
        con.execute("create or replace table staging.private as select 1 as secret")
        con.execute("create or replace view core.v as select * from core.dim_x")


def test_publish_copies_mart_tables_only(tmp_path):
    _warehouse(tmp_path / "w.duckdb", 5)
    report = publish_snapshot(tmp_path / "w.duckdb", tmp_path / "published")
    assert report.tables == {"core.dim_x": 5}
    with duckdb.connect(str(report.path), read_only=True) as con:
        schemas = {
            row[0] for row in con.execute("select schema_name from duckdb_schemas()").fetchall()
        }
    assert "staging" not in schemas
    assert sorted(p.name for p in (tmp_path / "published").iterdir()) == ["campaign_mart.duckdb"]


def test_reader_holding_the_old_snapshot_keeps_it_while_a_new_one_is_published(tmp_path):
    _warehouse(tmp_path / "w.duckdb", 5)
    first = publish_snapshot(tmp_path / "w.duckdb", tmp_path / "published")
    reader = duckdb.connect(str(first.path), read_only=True)
    try:
        _warehouse(tmp_path / "w.duckdb", 7)
        publish_snapshot(tmp_path / "w.duckdb", tmp_path / "published")
        assert reader.execute("select count(*) from core.dim_x").fetchone() == (5,)
    finally:
        reader.close()
    with duckdb.connect(str(first.path), read_only=True) as fresh:
        assert fresh.execute("select count(*) from core.dim_x").fetchone() == (7,)


def _warehouse_with_pii(path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists core")
        con.execute("create schema if not exists decisioning")
        con.execute(
            "create or replace table core.dim_customer as select 'C1' as customer_id, "
            "'AB123' as national_id, 'Ana' as first_name, date '1990-01-02' as birth_date, "
            "'ana@example.com' as email_home, 'Lisbon' as city"
        )
        con.execute(
            "create or replace table decisioning.nbo as select 'C1' as customer_id, "
            "'+351900' as mobile_phone, 1 as rank"
        )


def test_analyst_views_mask_pii_by_default_and_unmasked_shows_it(tmp_path):
    from cmart.analyst import connect

    _warehouse_with_pii(tmp_path / "w.duckdb")
    report = publish_snapshot(tmp_path / "w.duckdb", tmp_path / "published")
    assert report.analyst_views["analyst.dim_customer"] == [
        "birth_date",
        "email_home",
        "first_name",
        "national_id",
    ]
    with connect(report.path) as con:
        row = con.execute(
            "select customer_id, national_id, first_name, birth_date, email_home, city "
            "from dim_customer"
        ).fetchone()
        phone = con.execute("select mobile_phone from nbo").fetchone()
    assert row is not None and phone is not None
    assert row[0] == "C1" and row[5] == "Lisbon"
    assert row[1] != "AB123" and len(row[1]) == 64  # sha256 hex: joinable, not readable
    assert row[2] is None and row[3] is None and row[4] != "ana@example.com"
    assert phone[0] != "+351900"
    with connect(report.path, unmasked=True) as con:
        assert con.execute("select national_id, first_name from dim_customer").fetchone() == (
            "AB123",
            "Ana",
        )


def test_analyst_views_work_with_plain_duckdb_and_when_attached(tmp_path):
    _warehouse_with_pii(tmp_path / "w.duckdb")
    report = publish_snapshot(tmp_path / "w.duckdb", tmp_path / "published")
    with duckdb.connect(str(report.path), read_only=True) as con:
        assert con.execute("select first_name from analyst.dim_customer").fetchone() == (None,)
    with duckdb.connect() as con:
        con.execute(f"attach '{report.path}' as mart (read_only)")
        national_id = con.execute("select national_id from mart.analyst.dim_customer").fetchone()
    assert national_id is not None and national_id[0] != "AB123"


def _two_tables(path, version: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists core")
        con.execute("create schema if not exists decisioning")
        con.execute(f"create or replace table core.dim_x as select {version} as version")
        con.execute(f"create or replace table decisioning.nbo as select {version} as version")


def _versions(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: con.execute(f"select version from {table}").fetchone()[0]
            for table in ("core.dim_x", "decisioning.nbo")
        }


def test_refresh_copies_only_the_rebuilt_tables_into_a_copy_of_the_same_days_snapshot(tmp_path):
    day = dt.date(2026, 11, 29)
    warehouse, published = tmp_path / "w.duckdb", tmp_path / "published"
    _two_tables(warehouse, 1)
    first = publish_snapshot(warehouse, published, run_date=day)
    assert first.mode == "full" and snapshot_run_date(first.path) == day
    _two_tables(warehouse, 2)  # the intraday run rebuilt nbo; dim_x changed too, not rebuilt
    report = publish_snapshot(warehouse, published, run_date=day, refresh=["decisioning.nbo"])
    assert (report.mode, report.copied) == ("refresh", ["decisioning.nbo"])
    assert _versions(report.path) == {"core.dim_x": 1, "decisioning.nbo": 2}
    with duckdb.connect(str(report.path), read_only=True) as con:
        assert con.execute("select count(*) from analyst.nbo").fetchone() == (1,)
        assert con.execute("select publish_mode from meta.publish_info").fetchone() == ("refresh",)


def test_refresh_of_another_days_snapshot_copies_everything(tmp_path):
    warehouse, published = tmp_path / "w.duckdb", tmp_path / "published"
    _two_tables(warehouse, 1)
    publish_snapshot(warehouse, published, run_date=dt.date(2026, 11, 28))
    _two_tables(warehouse, 2)
    report = publish_snapshot(
        warehouse, published, run_date=dt.date(2026, 11, 29), refresh=["decisioning.nbo"]
    )
    assert report.mode == "full"
    assert _versions(report.path) == {"core.dim_x": 2, "decisioning.nbo": 2}
    assert snapshot_run_date(report.path) == dt.date(2026, 11, 29)


def test_the_publish_asset_refreshes_only_what_a_partial_run_rebuilt():
    import dagster as dg

    from pipelines.defs.publish.assets import tables_to_refresh

    nbo, dim = dg.AssetKey(["decisioning", "nbo"]), dg.AssetKey(["core", "dim_customer"])
    staging = dg.AssetKey(["staging", "stg_x"])
    upstream = [nbo, dim, staging, dg.AssetKey(["exports", "sms"])]
    assert tables_to_refresh(None, upstream) is None  # selection unknown: copy everything
    assert tables_to_refresh({nbo, dim, staging}, upstream) is None  # the daily job
    assert tables_to_refresh({nbo, staging}, upstream) == ["decisioning.nbo"]  # intraday
