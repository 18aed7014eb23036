"""The HTML report on a tiny hand-made mart: self-contained, one chart per question, alerts."""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb

from cmart.report import offer_alerts, write_report

DAY = dt.date(2026, 11, 29)


def _mart(path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema reporting")
        con.execute(
            """
            create table reporting.rpt_campaign_performance as
            select date '2026-11-27' + cast(i % 3 as integer) as contact_date, 'C1' as campaign_id,
                'O' || (i % 4) as offer_id, ['sms', 'email', 'branch'][1 + i % 3] as channel,
                ['North', 'South'][1 + i % 2] as region, ['Ghent', 'Liège'][1 + i % 2] as city,
                i % 10 = 0 as is_control, 60 as n_contacts, 9 as n_soft_responders,
                1 + i % 3 as n_hard_responders
            from range(40) as t(i)
            """
        )
        con.execute(
            """
            create table reporting.rpt_campaign_lift as
            select 'offer' as lift_level, 'C1' as campaign_id, 'O1' as offer_id,
                0.01 as lift, -0.002 as lift_ci_lower, 0.02 as lift_ci_upper,
                900 as n_treated, 100 as n_control, true as has_enough_contacts
            """
        )
        con.execute(
            """
            create table reporting.rpt_offer_alerts as
            select 'O3' as offer_id, 'C1' as campaign_id, 'critical' as severity,
                'hard_rate_below_expected' as alert_rules,
                'hard-response rate 0.1% is 9% of the expected 1.4% <script>' as alert_message
            """
        )


def test_report_is_self_contained_with_data_in_every_chart(tmp_path):
    _mart(tmp_path / "mart.duckdb")
    path = write_report(tmp_path / "mart.duckdb", tmp_path / "reports", DAY)
    assert path == tmp_path / "reports" / "2026-11-29" / "report.html"
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page)
    charts = re.findall(r'Plotly\.newPlot\(\s*"chart-\d+",\s*(\[.*?\]),\s*\{', page, re.DOTALL)
    assert len(charts) == 6
    assert all(sum(len(t.get("x") or []) for t in json.loads(c)) for c in charts)
    assert "&lt;script&gt;" in page  # alert text is escaped
    assert [a.offer_id for a in offer_alerts(tmp_path / "mart.duckdb")] == ["O3"]


def test_a_mart_without_alerts_table_has_no_alerts(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")):
        pass
    assert offer_alerts(tmp_path / "empty.duckdb") == []
