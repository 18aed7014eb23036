"""Publishing: a complete new snapshot replaces the old one; open readers are not disturbed."""

from __future__ import annotations

import duckdb

from cmart.publish import publish_snapshot


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
