"""Reporting marts on the daily run's world: lift against the planted truth, the planted low
performer is flagged, the Newcombe interval matches an independent implementation, PII is
masked in the analyst views."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from cmart.publish import PUBLISHED_FILE

pytestmark = pytest.mark.slow

Z = 1.96


def _published(daily_run) -> Path:
    assert daily_run.success
    return daily_run.settings.published_dir / PUBLISHED_FILE


def _truth_rows(daily_run, name: str) -> list[dict[str, str]]:
    with (daily_run.settings.truth_dir / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


def newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p2 (method 10), written independently."""
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = _wilson(x1, n1), _wilson(x2, n2)
    return (
        p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def test_reference_newcombe_matches_the_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II example (a): 56/70 - 48/80
    lower, upper = newcombe(56, 70, 48, 80)
    assert (round(lower, 4), round(upper, 4)) == (0.0524, 0.3339)


def test_mart_lift_interval_matches_an_independent_implementation(daily_run):
    with duckdb.connect(str(_published(daily_run)), read_only=True) as con:
        rows = con.execute(
            """
            select n_treated_hard, n_treated, n_control_hard, n_control, lift,
                lift_ci_lower, lift_ci_upper
            from reporting.rpt_campaign_lift
            where n_treated > 0 and n_control > 0
            """
        ).fetchall()
    assert len(rows) > 20
    for x1, n1, x2, n2, lift, lower, upper in rows:
        expected_lower, expected_upper = newcombe(x1, n1, x2, n2)
        assert lift == pytest.approx(x1 / n1 - x2 / n2, abs=1e-8)
        assert lower == pytest.approx(expected_lower, abs=1e-8)
        assert upper == pytest.approx(expected_upper, abs=1e-8)
        assert lower <= lift <= upper


def _true_lift(rows: list[dict[str, str]], key) -> dict[str, float]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for row in rows:
        entry = sums[key(row)]
        entry[0] += int(row["n_treated"]) * float(row["treated_hard_rate"])
        entry[1] += int(row["n_treated"])
        entry[2] += int(row["n_control"]) * float(row["control_hard_rate"])
        entry[3] += int(row["n_control"])
    return {
        name: treated / n_treated - control / n_control
        for name, (treated, n_treated, control, n_control) in sums.items()
        if n_treated and n_control
    }


def _coverage(daily_run, level: str, key) -> tuple[int, int]:
    truth = _true_lift(_truth_rows(daily_run, "campaign_lift.csv"), key)
    with duckdb.connect(str(_published(daily_run)), read_only=True) as con:
        rows = con.execute(
            """
            select campaign_id, offer_id, channel, lift_ci_lower, lift_ci_upper
            from reporting.rpt_campaign_lift
            where lift_level = ? and has_enough_contacts
            """,
            [level],
        ).fetchall()
    judged = inside = 0
    for campaign_id, offer_id, channel, lower, upper in rows:
        name = campaign_id if level == "campaign" else f"{offer_id}|{channel}"
        if name in truth:
            judged += 1
            inside += lower <= truth[name] <= upper
    return judged, inside


def test_planted_campaign_lift_lies_inside_the_reported_95_ci(daily_run):
    judged, inside = _coverage(daily_run, "campaign", lambda row: row["campaign_id"])
    assert judged >= 5, "too few campaigns with enough contacts to judge"
    assert inside / judged >= 0.9, f"{inside} of {judged} campaigns inside their 95% CI"


def test_planted_offer_channel_lift_lies_inside_the_reported_95_ci(daily_run):
    judged, inside = _coverage(
        daily_run, "offer_channel", lambda row: f"{row['offer_id']}|{row['channel']}"
    )
    assert judged >= 20
    assert inside / judged >= 0.85, f"{inside} of {judged} offer/channels inside their 95% CI"


def test_planted_low_performer_is_flagged_critical_and_the_best_offer_is_not(daily_run):
    offers = _truth_rows(daily_run, "offer_truth.csv")
    low = [row["offer_id"] for row in offers if row["is_low_performer"] == "true"]
    assert len(low) == 1
    lift = _truth_rows(daily_run, "campaign_lift.csv")
    treated: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in lift:
        treated[row["offer_id"]][0] += int(row["n_treated"]) * float(row["treated_hard_rate"])
        treated[row["offer_id"]][1] += int(row["n_treated"])
    best = max(
        (offer for offer, (_, n) in treated.items() if n >= 1000),
        key=lambda offer: treated[offer][0] / treated[offer][1],
    )
    with duckdb.connect(str(_published(daily_run)), read_only=True) as con:
        alerts = dict(
            con.execute("select offer_id, severity from reporting.rpt_offer_alerts").fetchall()
        )
    assert alerts.get(low[0]) == "critical", alerts
    assert best not in alerts
    assert len(alerts) <= len(offers) // 3, f"too many alerts to be useful: {alerts}"


def test_performance_counts_add_up_to_the_contact_fact(daily_run):
    with duckdb.connect(str(_published(daily_run)), read_only=True) as con:
        contacts, hard = con.execute(
            "select sum(n_contacts), sum(n_hard_responders) from reporting.rpt_campaign_performance"
        ).fetchone()
        facts = con.execute("select count(*) from campaign.fct_contact").fetchone()
        hard_contacts = con.execute(
            "select count(distinct contact_id) from campaign.fct_response "
            "where response_class = 'hard' and contact_id is not null"
        ).fetchone()
    assert (contacts, hard) == (facts[0], hard_contacts[0])


def test_analyst_views_mask_every_pii_column_in_the_published_mart(daily_run):
    from cmart.analyst import connect
    from cmart.config import DEFAULT_PII_COLUMNS

    with connect(_published(daily_run)) as con:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'analyst' and column_name in (select unnest(?::varchar[]))",
            [list(DEFAULT_PII_COLUMNS)],
        ).fetchall()
        tables = {table for table, _ in columns}
        assert {"dim_customer", "customer_360"} <= tables
        for table, column in columns:
            value = f'cast("{column}" as varchar)'
            shown = con.execute(
                f"select count({value}), count(*) filter "
                f"(where not regexp_full_match({value}, '[0-9a-f]{{64}}')) from analyst.{table}"
            ).fetchone()
            if DEFAULT_PII_COLUMNS[column] == "redact":
                assert shown[0] == 0, f"analyst.{table}.{column} is not redacted"
            else:
                assert shown[1] == 0, f"analyst.{table}.{column} is not hashed"
        raw_names = con.execute("select count(first_name) from core.dim_customer").fetchone()
    assert raw_names[0] > 1000  # the raw table is there, schema-qualified, for the few
