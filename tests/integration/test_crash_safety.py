"""Crash safety: SIGKILL the daily work at random points, re-run, end where a clean run ends.

The clean run is the session's `daily_run`; the crash campaign (tests/crash/harness.py) works
on a copy of its landing files. Reproduce a failure with CMART_CRASH_SEED=<seed printed below>;
`scripts/crash_nightly.py` runs the same campaign with many more kills.
"""

from __future__ import annotations

import os
import random
import time

import pytest

from tests.crash.harness import STAGES, Plan, run_campaign

pytestmark = pytest.mark.slow

CI_PLAN = Plan(load_kills=15, dbt_kills=1, export_kills=15, dbt_kill_window=(1.0, 15.0))


def test_sigkill_at_random_points_then_rerun_ends_like_a_clean_run(daily_run, tmp_path, capsys):
    assert daily_run.success, "the clean reference run failed"
    seed = int(os.environ.get("CMART_CRASH_SEED") or random.SystemRandom().randrange(1, 10**6))
    print(f"crash seed {seed} (reproduce: CMART_CRASH_SEED={seed})")
    started = time.monotonic()

    report = run_campaign(daily_run.settings, tmp_path / "crash", seed, CI_PLAN)

    summary = report.summary()
    with capsys.disabled():
        print(f"\n{summary}\n  took {time.monotonic() - started:.0f}s")
    assert not report.problems, summary
    assert len(report.kills) >= 30, summary
    hit = report.stages_hit()
    assert all(hit[stage] for stage in STAGES), f"stages never killed: {summary}"
