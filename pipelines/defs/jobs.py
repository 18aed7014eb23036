"""The daily job, its schedule and the landing-folder sensor."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import dagster as dg

from cmart.settings import Settings

# Everything from the landing files to the channel lists, in one process: DuckDB allows a
# single writing process per file, so steps must not run in parallel processes.
DAILY_SELECTION = dg.AssetSelection.groups(
    "ingest", "staging", "intermediate", "core", "campaign", "decisioning", "reporting", "exports"
)

daily_job = dg.define_asset_job(
    "daily",
    selection=DAILY_SELECTION,
    executor_def=dg.in_process_executor,
    description="Load new landing files, build the mart (dbt build with tests), decide and "
    "export one list per channel.",
)

daily_schedule = dg.ScheduleDefinition(
    name="daily_0600",
    job=daily_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

LANDING_EXTENSIONS = (".csv", ".csv.gz", ".jsonl", ".parquet")


def landing_fingerprint(landing_dir: Path) -> str:
    """A hash of the landing folder's complete files (name, size, mtime): no warehouse access."""
    digest = hashlib.sha256()
    if landing_dir.exists():
        for path in sorted(landing_dir.rglob("*")):
            if path.name.startswith((".", "_")) or not path.name.endswith(LANDING_EXTENSIONS):
                continue
            stat = path.stat()
            digest.update(
                f"{path.relative_to(landing_dir)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
            )
    return digest.hexdigest()[:20]


def build_landing_sensor(data_dir: Path) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_files",
        job=daily_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Starts the daily job when new complete files appear in data/landing/ "
        "(looks at the file system only, never at the warehouse).",
    )
    def landing_files(context: dg.SensorEvaluationContext):
        settings = Settings.from_env(os.environ.get("CMART_DATA_DIR") or data_dir)
        fingerprint = landing_fingerprint(settings.landing_dir)
        if fingerprint == context.cursor:
            return dg.SkipReason("no new landing files")
        context.update_cursor(fingerprint)
        return dg.RunRequest(run_key=f"landing-{fingerprint}")

    return landing_files
