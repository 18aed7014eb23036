"""The daily job, its schedule and the landing-folder sensor."""

import hashlib
import os
from pathlib import Path

import dagster as dg

from cmart.settings import Settings

# Everything from the landing files to the published snapshot, in one process: DuckDB allows
# a single writing process per file, so steps must not run in parallel processes. Groups that
# run on their own cadence (e.g. weekly model training) are listed here to stay out of it.
NOT_DAILY_GROUPS: tuple[str, ...] = ()
DAILY_SELECTION = dg.AssetSelection.all() - dg.AssetSelection.groups(*NOT_DAILY_GROUPS)

daily_job = dg.define_asset_job(
    "daily",
    selection=DAILY_SELECTION,
    executor_def=dg.in_process_executor,
    description="Load new landing files, build the mart (dbt build with tests), decide and "
    "export one list per channel, publish the analysts' snapshot.",
)

daily_schedule = dg.ScheduleDefinition(
    name="daily_0600",
    job=daily_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

LANDING_EXTENSIONS = (".csv", ".csv.gz", ".jsonl", ".parquet")


def landing_fingerprint(landing_dir: Path) -> str | None:
    """A hash of the landing folder's complete files (name, size, mtime), or None when there
    are none. Looks at the file system only, never at the warehouse."""
    digest = hashlib.sha256()
    seen = 0
    if landing_dir.exists():
        for path in sorted(landing_dir.rglob("*")):
            if path.name.startswith((".", "_")) or not path.name.endswith(LANDING_EXTENSIONS):
                continue
            stat = path.stat()
            line = f"{path.relative_to(landing_dir)}|{stat.st_size}|{stat.st_mtime_ns}\n"
            digest.update(line.encode())
            seen += 1
    return digest.hexdigest()[:20] if seen else None


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
        if fingerprint is None:
            return dg.SkipReason(f"no landing files in {settings.landing_dir}")
        if fingerprint == context.cursor:
            return dg.SkipReason("no new landing files")
        context.update_cursor(fingerprint)
        return dg.RunRequest(run_key=f"landing-{fingerprint}")

    return landing_files
