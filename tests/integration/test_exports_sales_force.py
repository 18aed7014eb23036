"""The sales force's list of the daily run: per branch and rep, each customer's top offers
(control group left out) with talking points that match customer_360."""

from __future__ import annotations

import json

import duckdb
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow


def test_sales_force_list_has_branch_rep_top_offers_and_talking_points(daily_run):
    assert daily_run.success
    settings = daily_run.settings
    folder = settings.exports_dir / "sales_force" / settings.run_date.isoformat()
    exported = pq.read_table(folder / "sales_force_list.parquet")
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert manifest["row_count"] == exported.num_rows > 0
    assert set(manifest["files"]) == {"sales_force_list.csv", "sales_force_list.parquet"}
    assert {"branch_id", "rep_id", "customer_id", "offer_id", "rank"} <= set(exported.column_names)

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.register("exported", exported)
        expected_rows, control_rows, mismatches, branches, with_points = con.execute(
            """
            select
                (select count(*) from decisioning.nbo
                 where not is_control and home_branch_id is not null),
                (select count(*) from exported
                 inner join decisioning.nbo as nbo using (customer_id, offer_id)
                 where nbo.is_control),
                (select count(*) from exported
                 inner join core.customer_360 as c360 using (customer_id)
                 inner join decisioning.nbo as nbo using (customer_id, offer_id)
                 where exported.branch_id is distinct from nbo.home_branch_id
                    or exported.rep_id is distinct from nbo.rep_id
                    or exported.rank is distinct from nbo.rank
                    or exported.held_product_ids is distinct from c360.held_product_ids
                    or exported.last_response_type is distinct from c360.last_response_type
                    or exported.last_response_at is distinct from c360.last_response_at
                    or exported.has_open_complaint is distinct from c360.has_open_complaint),
                (select count(distinct branch_id) from exported),
                (select count(*) from exported
                 where held_product_ids is not null and last_response_type is not null)
            """
        ).fetchall()[0]
        order = con.execute("select branch_id, rep_id, customer_id, rank from exported").fetchall()
    assert exported.num_rows == expected_rows
    assert control_rows == 0
    assert mismatches == 0
    assert branches > 1  # one list, one section per branch
    assert with_points > 0  # the talking points are filled in
    assert order == sorted(
        order, key=lambda row: (row[0], row[1] is None, row[1] or "", row[2], row[3])
    )
