"""The daily job, its schedule and the landing-folder sensor."""

import datetime as dt
import hashlib
import os
from collections.abc import Collection
from pathlib import Path

import dagster as dg

from cmart.exports import is_contact_history_file
from cmart.settings import Settings
from pipelines.defs.exports.partitions import run_date_partitions

# Everything from the landing files to the published snapshot, in one process: DuckDB allows
# a single writing process per file, so steps must not run in parallel processes. Groups that
# run on their own cadence (e.g. weekly model training) are listed here to stay out of it.
# intraday: the intraday_responses job's own; ml: the weekly propensity_training job's
NOT_DAILY_GROUPS: tuple[str, ...] = ("intraday", "ml")
DAILY_SELECTION = dg.AssetSelection.all() - dg.AssetSelection.groups(*NOT_DAILY_GROUPS)

daily_job = dg.define_asset_job(
    "daily",
    selection=DAILY_SELECTION,
    executor_def=dg.in_process_executor,
    partitions_def=run_date_partitions,
    description="Load new landing files, build the mart (dbt build with tests), decide and "
    "export one list per channel, publish the analysts' snapshot. A run is for one day: "
    "launch it for a partition (the run date).",
)


def _utc_day(moment: dt.datetime | None) -> str:
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date().isoformat()


@dg.schedule(
    name="daily_0600",
    job=daily_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="The daily run at 06:00 UTC, for that day's partition.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = _utc_day(context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"daily-{day}", partition_key=day)


LANDING_EXTENSIONS = (".csv", ".csv.gz", ".jsonl", ".parquet")
# Landing folders watched by their own sensor (intraday job); the daily run still loads them.
INTRADAY_SOURCES = ("responses",)


def landing_fingerprint(
    landing_dir: Path,
    sources: Collection[str] | None = None,
    skip_sources: Collection[str] = INTRADAY_SOURCES,
) -> str | None:
    """A hash of the complete files (name, size, mtime) in the landing folders ``sources``
    (all when None) but ``skip_sources``, or None when there are none. Looks at the file system
    only, never at the warehouse. The daily sensor leaves response files to the intraday one."""
    digest = hashlib.sha256()
    seen = 0
    if landing_dir.exists():
        for path in sorted(landing_dir.rglob("*")):
            if path.name.startswith((".", "_")) or not path.name.endswith(LANDING_EXTENSIONS):
                continue
            if is_contact_history_file(path):  # the pipeline's own write-back, not news
                continue
            source = path.relative_to(landing_dir).parts[0]
            if source in skip_sources or (sources is not None and source not in sources):
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
        "(looks at the file system only, never at the warehouse). Response files are left "
        "to the response_files sensor (intraday job).",
    )
    def landing_files(context: dg.SensorEvaluationContext):
        settings = Settings.from_env(os.environ.get("CMART_DATA_DIR") or data_dir)
        fingerprint = landing_fingerprint(settings.landing_dir)
        if fingerprint is None:
            return dg.SkipReason(f"no landing files in {settings.landing_dir}")
        if fingerprint == context.cursor:
            return dg.SkipReason("no new landing files")
        context.update_cursor(fingerprint)
        return dg.RunRequest(
            run_key=f"landing-{fingerprint}", partition_key=settings.run_date.isoformat()
        )

    return landing_files
