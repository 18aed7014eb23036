"""The grain of every mart table in the published mart, proved on the daily run's data:
row count equals distinct key count, and customer_360 has one row per core customer."""

from __future__ import annotations

import duckdb
import pytest

from cmart.publish import PUBLISHED_FILE

pytestmark = pytest.mark.slow

# (table, key columns): the grain each model's description states.
GRAINS = [
    ("campaign.fct_contact", ["contact_id"]),
    ("campaign.fct_response", ["response_id"]),
    ("campaign.fct_holding", ["customer_id", "product_id", "opened_at"]),
    ("campaign.fct_complaint", ["complaint_id"]),
    ("campaign.fct_life_event", ["customer_id", "event_type", "event_date"]),
    ("core.dim_customer", ["customer_id"]),
    ("core.dim_customer_history", ["customer_id", "valid_from"]),
    ("core.dim_product", ["product_id"]),
    ("core.dim_offer", ["offer_id"]),
    ("core.dim_campaign", ["campaign_id"]),
    ("core.dim_channel", ["channel_code"]),
    ("core.dim_branch", ["branch_id"]),
    ("core.dim_sales_rep", ["rep_id"]),
    ("core.dim_date", ["date_day"]),
    ("core.dim_segment", ["segment_code"]),
    ("core.dim_life_stage", ["life_stage_code"]),
    ("core.customer_360", ["customer_id"]),
]


@pytest.fixture(scope="module")
def published(daily_run) -> duckdb.DuckDBPyConnection:
    assert daily_run.success
    path = daily_run.settings.published_dir / PUBLISHED_FILE
    with duckdb.connect(str(path), read_only=True) as con:
        yield con


@pytest.mark.parametrize(("table", "key"), GRAINS, ids=[table for table, _ in GRAINS])
def test_row_count_equals_distinct_key_count(published, table: str, key: list[str]):
    columns = ", ".join(key)
    rows, distinct_keys, null_keys = published.execute(
        f"""
        select
            count(*),
            (select count(*) from (select distinct {columns} from {table})),
            count(*) filter (where {" or ".join(f"{c} is null" for c in key)})
        from {table}
        """
    ).fetchone()
    assert rows > 0
    assert rows == distinct_keys
    assert null_keys == 0


def test_customer_360_has_one_row_per_core_customer(published):
    core_customers, rows_360, matched = published.execute(
        """
        select
            (select count(*) from core.dim_customer where not is_inferred),
            (select count(*) from core.customer_360),
            (select count(*) from core.customer_360 as c360
             inner join core.dim_customer as customers using (customer_id)
             where not customers.is_inferred)
        """
    ).fetchone()
    assert core_customers == rows_360 == matched


def test_every_fact_row_joins_its_dimensions(published):
    orphans = published.execute(
        """
        select 'contact customer', count(*) from campaign.fct_contact
        anti join core.dim_customer using (customer_id)
        union all
        select 'contact offer', count(*) from campaign.fct_contact
        anti join core.dim_offer using (offer_id)
        union all
        select 'contact date', count(*) from campaign.fct_contact as facts
        anti join core.dim_date as dates on facts.contact_date = dates.date_day
        union all
        select 'response customer', count(*) from campaign.fct_response
        anti join core.dim_customer using (customer_id)
        union all
        select 'response channel', count(*) from campaign.fct_response as facts
        anti join core.dim_channel as channels on facts.channel = channels.channel_code
        union all
        select 'holding product', count(*) from campaign.fct_holding
        anti join core.dim_product using (product_id)
        """
    ).fetchall()
    assert [(name, n) for name, n in orphans if n] == []


def test_contacts_carry_the_customer_version_valid_at_the_contact(published):
    without_version, with_wrong_version = published.execute(
        """
        select
            count(*) filter (where facts.customer_history_sk is null),
            count(*) filter (
                where facts.customer_history_sk is not null
                and not (facts.contacted_at >= versions.effective_from
                         and facts.contacted_at < versions.effective_to
                         and facts.customer_id = versions.customer_id)
            )
        from campaign.fct_contact as facts
        inner join core.dim_customer as customers using (customer_id)
        left join core.dim_customer_history as versions
            on facts.customer_history_sk = versions.customer_history_sk
        where not customers.is_inferred
        """
    ).fetchone()
    assert without_version == 0
    assert with_wrong_version == 0
