"""The blocking quarantine-share gate on raw loads: systemic failures block, tiny batches warn."""

from __future__ import annotations

import dagster as dg
import pytest

from cmart.config import load_config
from cmart.settings import Settings
from loaders.reports import FileLoadReport, SourceLoadReport
from pipelines.defs.ingest.checks import GX_CHECK, gx_check_results

KEY = dg.AssetKey(["raw", "branches"])


def _report(loaded: int, quarantined: int) -> SourceLoadReport:
    item = FileLoadReport(
        path="branches/branches.csv",
        sha256="0" * 64,
        status="loaded",
        rows_read=loaded + quarantined,
        rows_loaded=loaded,
        rows_quarantined=quarantined,
    )
    return SourceLoadReport("branches", [item])


def _gx_result(report: SourceLoadReport, tmp_path) -> dg.AssetCheckResult:
    config = load_config(Settings(data_dir=tmp_path).config_dirs)
    [result] = [r for r in gx_check_results(KEY, report, config) if r.check_name == GX_CHECK]
    return result


@pytest.mark.parametrize(
    ("loaded", "quarantined", "passed", "severity"),
    [
        (9, 2, False, dg.AssetCheckSeverity.WARN),  # 18% of a tiny file: warn, do not block
        (9_000, 1_000, False, dg.AssetCheckSeverity.ERROR),  # 10% of a real batch: block
        (9_900, 100, True, dg.AssetCheckSeverity.ERROR),  # 1%: within the limit
        (0, 0, True, dg.AssetCheckSeverity.WARN),  # nothing new
    ],
)
def test_quarantine_share_gate(tmp_path, loaded, quarantined, passed, severity):
    result = _gx_result(_report(loaded, quarantined), tmp_path)
    assert result.passed is passed
    assert result.severity == severity


def test_the_minimum_batch_size_is_configuration(tmp_path):
    override = tmp_path / "config"
    override.mkdir()
    (override / "settings.yml").write_text("quality:\n  min_rows_for_share_gate: 5\n")
    config = load_config(Settings(data_dir=tmp_path).config_dirs)
    assert config.quality.min_rows_for_share_gate == 5
    [result] = [r for r in gx_check_results(KEY, _report(9, 2), config) if r.check_name == GX_CHECK]
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert not result.passed
