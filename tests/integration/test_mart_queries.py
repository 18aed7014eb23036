"""The example analyst queries in docs/queries/ run against the published mart."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cmart.publish import PUBLISHED_FILE
from cmart.settings import REPO_ROOT

pytestmark = pytest.mark.slow

QUERY_DIR = REPO_ROOT / "docs" / "queries"
QUERIES = sorted(QUERY_DIR.glob("*.sql"))


def test_there_are_at_least_ten_example_queries():
    assert len(QUERIES) >= 10


@pytest.mark.parametrize("query", QUERIES, ids=[path.stem for path in QUERIES])
def test_example_query_returns_rows_from_the_published_mart(daily_run, query: Path):
    assert daily_run.success
    published = daily_run.settings.published_dir / PUBLISHED_FILE
    with duckdb.connect(str(published), read_only=True) as con:
        cursor = con.execute(query.read_text())
        columns = [description[0] for description in cursor.description]
        rows = cursor.fetchall()
    assert rows, f"{query.name} returned no rows"
    assert len(columns) == len(set(columns)), f"{query.name} repeats a column name"


def test_last_campaign_hard_response_rates_are_rates(daily_run):
    query = QUERY_DIR / "hard_response_rate_by_region_and_product_last_campaign.sql"
    published = daily_run.settings.published_dir / PUBLISHED_FILE
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(
            f"select n_treated, n_treated_hard, hard_response_rate from ({query.read_text()})"
        ).fetchall()
    assert sum(n_treated for n_treated, _, _ in rows) > 0
    assert all(0 <= hard <= treated for treated, hard, _ in rows)
    assert all(rate is None or 0 <= rate <= 1 for _, _, rate in rows)


def test_offers_to_act_on_today_lists_the_planted_low_performer_first(daily_run):
    truth = (daily_run.settings.truth_dir / "offer_truth.csv").read_text().splitlines()
    low = [line.split(",")[0].strip('"') for line in truth if ",true," in line]
    query = QUERY_DIR / "offers_to_act_on_today.sql"
    published = daily_run.settings.published_dir / PUBLISHED_FILE
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(f"select severity, offer_id from ({query.read_text()})").fetchall()
    assert len(low) == 1 and ("critical", low[0]) in rows
    assert rows[0][0] == "critical"
