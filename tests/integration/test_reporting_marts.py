"""Reporting marts on the daily run's world: lift against the planted truth, the planted low
performer is flagged, the Newcombe interval matches an independent implementation, PII is
masked in the analyst views."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Judged:
    """One lift of the mart (a campaign, offer or offer x channel) against the planted truth."""

    level: str
    key: str
    truth: float
    lower: float
    upper: float
    line: str

    @property
    def inside(self) -> bool:
        return self.lower <= self.truth <= self.upper


def _judged_lifts(daily_run) -> list[Judged]:
    """Every lift with enough contacts, with its planted true lift.

    The truth (truth/campaign_lift.csv) gives the planted treated and control hard-response
    probabilities per offer and channel, averaged over all contacts. The mart measures only
    mature contacts (attribution window closed), so a campaign's or offer's true lift is
    rebuilt from the offer x channel truths weighted by the contacts the mart measured in each
    arm (within an offer and channel the planted rates do not depend on the contact date)."""
    truth = {
        (row["offer_id"], row["channel"]): row
        for row in _truth_rows(daily_run, "campaign_lift.csv")
    }
    with duckdb.connect(str(_published(daily_run)), read_only=True) as con:
        cursor = con.execute(
            """
            select lift_level, campaign_id, offer_id, channel, n_treated, n_treated_hard,
                n_control, n_control_hard, lift_ci_lower, lift_ci_upper, has_enough_contacts
            from reporting.rpt_campaign_lift
            order by lift_level, campaign_id, offer_id, channel
            """
        )
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    keys = {
        "campaign": lambda row: str(row["campaign_id"]),
        "offer": lambda row: str(row["offer_id"]),
        "offer_channel": lambda row: f"{row['offer_id']}|{row['channel']}",
    }
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for row in rows:
        planted = truth.get((row["offer_id"], row["channel"]))
        if row["lift_level"] != "offer_channel" or planted is None:
            continue
        for level, key in keys.items():
            entry = sums[(level, key(row))]
            entry[0] += row["n_treated"] * float(planted["treated_hard_rate"])
            entry[1] += row["n_treated"]
            entry[2] += row["n_control"] * float(planted["control_hard_rate"])
            entry[3] += row["n_control"]
    judged = []
    for row in rows:
        treated, n_treated, control, n_control = sums[
            (row["lift_level"], keys[row["lift_level"]](row))
        ]
        if not row["has_enough_contacts"] or not n_treated or not n_control:
            continue
        key = keys[row["lift_level"]](row)
        true_lift = treated / n_treated - control / n_control
        line = (
            f"{row['lift_level']} {key}: true lift {true_lift:+.4f}, 95% CI "
            f"[{row['lift_ci_lower']:+.4f}, {row['lift_ci_upper']:+.4f}] from treated "
            f"{row['n_treated_hard']}/{row['n_treated']}, control "
            f"{row['n_control_hard']}/{row['n_control']}"
        )
        judged.append(
            Judged(
                row["lift_level"], key, true_lift, row["lift_ci_lower"], row["lift_ci_upper"], line
            )
        )
    return judged


def _coverage(judged: list[Judged]) -> str:
    inside = sum(unit.inside for unit in judged)
    misses = "\n".join(f"  outside: {unit.line}" for unit in judged if not unit.inside)
    return f"{inside} of {len(judged)} inside their 95% CI ({inside / len(judged):.0%})\n{misses}"


def test_planted_lift_lies_inside_the_reported_95_ci_for_90_percent_of_lifts(daily_run):
    """The acceptance rule of issue 7, judged over every campaign, offer and offer x channel
    lift with enough contacts: a world has too few campaigns for the rule alone (with 5 of them
    a correct 95% interval misses at least one 23% of the time). Coverage on more worlds is in
    docs/configuration.md."""
    judged = _judged_lifts(daily_run)
    report = _coverage(judged)
    print(report)
    assert sum(unit.level == "campaign" for unit in judged) >= 4, report
    assert len(judged) >= 10, f"too few lifts with enough contacts to judge: {report}"
    assert sum(unit.inside for unit in judged) / len(judged) >= 0.9, report


def test_planted_campaign_lift_lies_inside_the_reported_95_ci(daily_run):
    judged = [unit for unit in _judged_lifts(daily_run) if unit.level == "campaign"]
    report = _coverage(judged)
    print(report)
    # one miss among a handful of campaigns is chance; two or more would point to a bias
    assert sum(not unit.inside for unit in judged) <= 1, report


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
