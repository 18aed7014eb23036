"""Nightly crash campaign: many more SIGKILLs than CI, on a freshly generated world.

    .venv/bin/python scripts/crash_nightly.py [--customers 2000] [--load-kills 100]
        [--dbt-kills 10] [--export-kills 100] [--crash-seed N] [--work-dir DIR]

Generates a world, runs `cmart run` once, uninterrupted (the reference), then runs the crash
campaign of tests/crash/harness.py on a copy of its landing files: kills during loads, dbt,
exports and publish, each followed by checks, and a final comparison with the reference.
Prints the crash points reached; exits 1 if any check failed (reproduce with --crash-seed).
`make crash-nightly` runs it with the defaults.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from cmart.generate import generate_world  # noqa: E402
from cmart.settings import Settings  # noqa: E402
from tests.crash.harness import STAGES, Plan, child_env, run_campaign  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--dirty-rate", type=float, default=0.02)
    parser.add_argument("--world-seed", type=int, default=11)
    parser.add_argument("--run-date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 29))
    parser.add_argument("--load-kills", type=int, default=100)
    parser.add_argument("--dbt-kills", type=int, default=10)
    parser.add_argument("--export-kills", type=int, default=100)
    parser.add_argument("--crash-seed", type=int, default=None)
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a new temp dir")
    args = parser.parse_args()

    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="cmart-crash-"))
    seed = args.crash_seed or random.SystemRandom().randrange(1, 10**6)
    print(f"crash nightly: seed {seed}, work dir {work}", flush=True)
    started = time.monotonic()

    reference = Settings(data_dir=work / "reference", run_date=args.run_date)
    generate_world(
        reference,
        customers=args.customers,
        seed=args.world_seed,
        days=args.days,
        dirty_rate=args.dirty_rate,
        end_date=args.run_date,
        progress=lambda _: None,
    )
    log = work / "reference_run.log"
    with log.open("w") as handle:
        code = subprocess.call(
            [
                str(Path(sys.executable).parent / "cmart"),
                "run",
                "--data-dir",
                str(reference.data_dir),
                "--run-date",
                args.run_date.isoformat(),
            ],
            cwd=REPO_ROOT,
            env=child_env(reference),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    if code != 0:
        print(f"the clean reference run failed (exit {code}); see {log}", file=sys.stderr)
        return 2
    print(f"reference run done in {time.monotonic() - started:.0f}s", flush=True)

    plan = Plan(
        load_kills=args.load_kills, dbt_kills=args.dbt_kills, export_kills=args.export_kills
    )
    report = run_campaign(reference, work / "crash", seed, plan, progress=print)
    print(report.summary())
    missing = [stage for stage in STAGES if not report.stages_hit()[stage]]
    if missing:
        print(f"stages never killed: {missing}")
    print(f"total {time.monotonic() - started:.0f}s; logs in {work / 'crash' / 'crash_logs'}")
    return 1 if report.problems or missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
