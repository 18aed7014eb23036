"""The benchmark harness end to end on a tiny bank: both sides run and are compared.

Not a timed test: it checks that the harness measures every stage, reads our run's step events
and dbt's results, runs the hand-written baseline and compares the two sides' channel files.
Scale lives in `cmart bench` (BENCHMARKS.md).
"""

from __future__ import annotations

import pytest

from bench.harness import bench_size, format_result

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SMOKE_CUSTOMERS = 5_000


def test_bench_runs_both_sides_on_the_same_world_and_reports_their_difference(tmp_path):
    result = bench_size(SMOKE_CUSTOMERS, tmp_path, incremental=False, progress=lambda _: None)

    assert result.landing_rows["customers"] >= SMOKE_CUSTOMERS
    assert {"load", "dbt build", "decide", "export", "publish"} <= set(result.ours.stages)
    assert {"load", "decide", "export"} <= set(result.baseline.stages)
    assert result.ours.detail["decide_models"], "the decide models come from dbt's manifest"
    assert "nbo" in result.ours.detail["decide_models"]
    for side in (result.ours, result.baseline):
        assert side.total_seconds > 0
        assert side.peak_tree_rss_bytes > 0
        assert side.max_process_rss_bytes > 0

    comparison = result.comparison
    assert comparison.ours_rows > 0
    assert comparison.baseline_rows > 0
    assert comparison.symmetric_difference == comparison.only_ours + comparison.only_baseline
    assert comparison.ours_rows - comparison.baseline_rows == (
        comparison.only_ours - comparison.only_baseline
    )

    table = format_result(result)
    assert "symmetric difference on (customer_id, offer_id, channel): " in table
    assert "daily run (total)" in table
    assert (tmp_path / f"customers_{SMOKE_CUSTOMERS}" / "result.json").exists()
