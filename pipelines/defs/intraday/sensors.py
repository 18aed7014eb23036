"""The response-files sensor: file system only, it never opens the warehouse."""

import os
from pathlib import Path

import dagster as dg

from cmart.settings import Settings
from pipelines.defs.intraday.jobs import intraday_job
from pipelines.defs.jobs import INTRADAY_SOURCES, landing_fingerprint


def response_files_fingerprint(landing_dir: Path) -> str | None:
    """A hash of the complete response files (name, size, mtime); None when there are none."""
    return landing_fingerprint(landing_dir, sources=INTRADAY_SOURCES, skip_sources=())


def build_response_sensor(data_dir: Path) -> dg.SensorDefinition:
    @dg.sensor(
        name="response_files",
        job=intraday_job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Starts the intraday_responses job when response files appear or change "
        "in data/landing/responses/ (looks at the file system only, never at the warehouse).",
    )
    def response_files(context: dg.SensorEvaluationContext):
        settings = Settings.from_env(os.environ.get("CMART_DATA_DIR") or data_dir)
        fingerprint = response_files_fingerprint(settings.landing_dir)
        if fingerprint is None:
            return dg.SkipReason(f"no response files in {settings.landing_dir / 'responses'}")
        if fingerprint == context.cursor:
            return dg.SkipReason("no new response files")
        context.update_cursor(fingerprint)
        return dg.RunRequest(
            run_key=f"responses-{fingerprint}", partition_key=settings.run_date.isoformat()
        )

    return response_files
