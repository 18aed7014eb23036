"""The HTML report: written by the daily run from the published mart, self-contained, with
data in every chart; `cmart report` rewrites it; `cmart run`'s alerts check warns in Dagster."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cmart.settings import REPO_ROOT

pytestmark = pytest.mark.slow

CHART_CALL = re.compile(r'Plotly\.newPlot\(\s*"(chart-\d+)",\s*(\[.*?\]),\s*\{', re.DOTALL)


def _report(daily_run) -> Path:
    assert daily_run.success
    settings = daily_run.settings
    return settings.reports_dir / settings.run_date.isoformat() / "report.html"


def test_daily_run_writes_a_self_contained_report(daily_run):
    page = _report(daily_run).read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']?https?:", page), "loads a script from the web"
    assert not re.search(r"<link[^>]+href=[\"']?https?:", page)
    assert "plotly.js v" in page or "plotly.js" in page[:200_000]  # the library is inline
    assert len(page) > 1_000_000


def test_every_chart_of_the_report_has_data(daily_run):
    page = _report(daily_run).read_text(encoding="utf-8")
    charts = CHART_CALL.findall(page)
    assert len(charts) == 6
    for chart_id, traces_json in charts:
        traces = json.loads(traces_json)
        points = sum(len(trace.get("x") or []) for trace in traces)
        assert points > 0, f"{chart_id} has no data"
    assert "<table id='alerts'>" in page and "critical" in page


def test_cmart_report_writes_the_page_and_lists_the_alerts(daily_run, tmp_path, capsys):
    from cmart.cli import main

    report = _report(daily_run)
    report.unlink()
    code = main(
        ["report", "--data-dir", str(daily_run.settings.data_dir), "--run-date", "2026-11-29"]
    )
    assert code == 0 and report.is_file()
    out = capsys.readouterr().out
    assert str(report) in out and "CRITICAL" in out


def test_report_renders_in_headless_chromium(daily_run, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    browser = browser or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no Chromium on this machine; scripts/screenshot_report.sh needs one")
    shot = tmp_path / "report.png"
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "screenshot_report.sh"), str(_report(daily_run)), str(shot)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert shot.stat().st_size > 50_000  # drawn charts, not a blank page


def test_alerts_check_is_defined_on_rpt_offer_alerts_and_warns_with_the_alerts(daily_run):
    import dagster as dg

    from pipelines.defs.reporting.checks import alerts_asset_key, build_alert_check
    from pipelines.defs.transform.assets import build_dbt_assets
    from pipelines.lib.resources import CampaignMartResource

    settings = daily_run.settings
    dbt_models = build_dbt_assets(settings.dbt_target_dir / "manifest.json")
    key = alerts_asset_key(list(dbt_models.keys))
    assert key is not None, "no dbt asset for rpt_offer_alerts: the alerts check is missing"
    check = build_alert_check(key)
    result = check(
        cmart=CampaignMartResource(
            data_dir=str(settings.data_dir), run_date=settings.run_date.isoformat()
        )
    )
    assert isinstance(result, dg.AssetCheckResult)
    assert result.passed is False and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["n_critical"].value >= 1
    offers = {row["offer_id"] for row in result.metadata["offers"].value}
    truth = (settings.truth_dir / "offer_truth.csv").read_text().splitlines()
    low = [line.split(",")[0].strip('"') for line in truth if ",true," in line]
    assert set(low) <= offers
