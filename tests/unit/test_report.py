"""The HTML report on a tiny hand-made mart: self-contained, one chart per question, alerts,
and the active propensity model's validation metrics from a hand-written metrics.json."""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb
import pytest

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
    assert "No propensity model is active" in page and "segment rate" in page


def _calibration(observed: list[float]) -> list[dict]:
    return [
        {"decile": decile, "n": 100, "predicted": 0.05 - 0.004 * decile, "observed": rate}
        for decile, rate in enumerate(observed, start=1)
    ]


def _metrics(version: str, *, with_uplift: bool) -> dict:
    uplift = [
        {
            "campaign_id": campaign,
            "decile": decile,
            "n_treated": 90,
            "n_control": 10,
            "treated_hard_rate": 0.05 - 0.004 * decile,
            "control_hard_rate": 0.01,
            "uplift": 0.04 - 0.004 * decile,
        }
        for campaign in ("C1", "C2")
        for decile in range(1, 11)
    ]
    return {
        "version": version,
        "trained_at": "2026-11-22T03:00:00+00:00",
        "training_window": {"from": "2026-08-01 08:00:00", "to": "2026-10-31 19:00:00"},
        "validation_window": {"from": "2026-11-01 08:00:00", "to": "2026-11-08 19:00:00"},
        "n_train": 12000,
        "n_validation": 3000,
        "model": {
            "auc": 0.6789,
            "lift_top_decile": 2.345,
            "calibration": _calibration([0.09, 0.05, 0.04, 0.03, 0.03, 0.02, 0.02, 0.01, 0.01, 0]),
        },
        "segment_rate_baseline": {
            "auc": 0.6123,
            "lift_top_decile": 1.789,
            "calibration": _calibration([0.06, 0.05, 0.04, 0.03, 0.03, 0.03, 0.02, 0.02, 0.01, 0]),
        },
        "uplift_by_decile": uplift if with_uplift else [],
        "activated": True,
    }


def _models(models_dir, version: str, metrics: dict | None) -> None:
    (models_dir / version).mkdir(parents=True)
    if metrics is not None:
        (models_dir / version / "metrics.json").write_text(json.dumps(metrics))
    (models_dir / "active.json").write_text(json.dumps({"version": version}))


def _chart_traces(page: str) -> dict[str, list[dict]]:
    calls = re.findall(r'Plotly\.newPlot\(\s*"(chart-\d+)",\s*(\[.*?\]),\s*\{', page, re.DOTALL)
    return {chart: json.loads(traces) for chart, traces in calls}


def test_report_shows_the_active_models_metrics_calibration_and_uplift(tmp_path):
    _mart(tmp_path / "mart.duckdb")
    models = tmp_path / "elsewhere" / "models"
    _models(models, "20261122T030000Z", _metrics("20261122T030000Z", with_uplift=True))
    path = write_report(tmp_path / "mart.duckdb", tmp_path / "reports", DAY, models_dir=models)
    page = path.read_text(encoding="utf-8")
    section = page[page.index("id='propensity-model'") :]
    assert "20261122T030000Z" in section and "No propensity model is active" not in page
    assert "<td>model</td><td>0.679</td><td>2.35</td>" in section
    assert "<td>segment-rate baseline</td><td>0.612</td><td>1.79</td>" in section
    charts = _chart_traces(page)
    assert len(charts) == 8
    calibration, uplift = charts["chart-6"], charts["chart-7"]
    assert {trace["name"] for trace in calibration} == {
        "model: observed",
        "model: predicted",
        "segment-rate baseline: observed",
        "segment-rate baseline: predicted",
    }
    assert calibration[0]["x"] == list(range(1, 11)) and calibration[0]["y"][0] == 0.09
    # pooled over the two campaigns: 0.05 - 0.004 d - 0.01
    assert uplift[0]["x"] == list(range(1, 11))
    assert uplift[0]["y"][0] == pytest.approx(0.036)
    assert uplift[0]["y"][9] == pytest.approx(0.0)


def test_report_without_uplift_or_readable_metrics_says_so(tmp_path):
    _mart(tmp_path / "mart.duckdb")
    models = tmp_path / "models"  # the data dir's own models folder, found without being passed
    _models(models, "v1", _metrics("v1", with_uplift=False))
    page = write_report(tmp_path / "mart.duckdb", tmp_path / "reports", DAY).read_text()
    assert "Active model <b>v1</b>" in page and "No uplift by decile" in page
    assert len(_chart_traces(page)) == 7
    (models / "active.json").unlink()
    _models(models, "v2", None)
    page = write_report(tmp_path / "mart.duckdb", tmp_path / "reports", DAY).read_text()
    assert "Model v2 is active, but its metrics.json cannot be read" in page
    assert len(_chart_traces(page)) == 6


def test_a_mart_without_alerts_table_has_no_alerts(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")):
        pass
    assert offer_alerts(tmp_path / "empty.duckdb") == []
