"""The benchmark's comparison on the session's daily run: the hand-written baseline against our
pipeline on the same landing files (the `daily_run` fixture: 3,000 customers, 2% dirty rows).

Not a timed test and not a fresh world: a `cmart run` of its own takes minutes on this machine
even at 1,000 customers (the issue's 10,000-customer smoke would take longer still), so this
reuses the session's daily run and runs bench/baseline.py on its landing files exactly as
`cmart bench` does; the timed comparison at scale is `cmart bench` (BENCHMARKS.md).
"""

from __future__ import annotations

import json

import pytest

from bench.harness import (
    compare_exports,
    decision_rules,
    exported_outside,
    read_decide_time,
    run_baseline_side,
    unmodelled_rules,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def compared(daily_run, tmp_path_factory: pytest.TempPathFactory):
    assert daily_run.success
    settings = daily_run.settings
    work = tmp_path_factory.mktemp("bench_smoke")
    candidates = work / "candidates.parquet"
    baseline = run_baseline_side(
        settings,
        work / "exports",
        work / "logs",
        "baseline",
        decision_rules(settings),
        candidates=candidates,
    )
    comparison = compare_exports(settings.exports_dir, work / "exports", settings.run_date)
    return settings, work, candidates, baseline, comparison


def test_every_exported_row_passes_the_baselines_rules(compared):
    settings, _, candidates, _, comparison = compared
    assert comparison.ours_rows > 0
    # path, not held, product channel rules, consent, complaint, response suppression,
    # decline cool-down, 7/30-day caps, same-product spacing, reachability, live offer
    assert exported_outside(settings.exports_dir, candidates, settings.run_date) == 0


def test_baseline_and_pipeline_export_the_same_customer_offer_channel_rows(compared):
    settings, _, _, baseline, comparison = compared
    assert baseline.total_seconds > 0 and baseline.peak_tree_rss_bytes > 0
    assert sum(baseline.detail["rows_by_channel"].values()) == comparison.baseline_rows
    unmodelled = unmodelled_rules(
        settings.dbt_target_dir / "build" / "manifest.json", settings.models_dir
    )
    if unmodelled:  # nbo applies rules the baseline does not: the difference is reported only
        pytest.skip(f"nbo applies rules the baseline does not model: {unmodelled}")
    assert comparison.symmetric_difference == 0, (
        comparison.sample_only_ours,
        comparison.sample_only_baseline,
    )


def test_harness_reads_the_decide_models_from_the_builds_results(compared):
    settings, *_ = compared
    build = settings.dbt_target_dir / "build"
    decide = read_decide_time(build)
    assert "nbo" in decide.models
    assert set(decide.models) <= set(decide.lineage_models)
    assert decide.seconds > 0
    assert json.loads((build / "run_results.json").read_text())["results"]
