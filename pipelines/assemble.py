"""Assemble the Dagster Definitions for one data dir (no side effects on import)."""

from __future__ import annotations

import dagster as dg

from cmart.config import load_config
from cmart.settings import Settings
from pipelines.defs.exports.assets import build_export_assets
from pipelines.defs.ingest.assets import configuration, raw_assets
from pipelines.defs.jobs import build_landing_sensor, daily_job, daily_schedule
from pipelines.defs.publish.assets import build_publish_asset
from pipelines.defs.transform.assets import build_dbt_assets
from pipelines.lib.dbt import dbt_resource, prepare_manifest
from pipelines.lib.resources import CampaignMartResource


def build_definitions(settings: Settings, *, lock_timeout_seconds: float = 0.0) -> dg.Definitions:
    manifest_path = prepare_manifest(settings)
    config = load_config(settings.config_dirs)
    dbt_models = build_dbt_assets(manifest_path)
    exports = build_export_assets(config)
    publish = build_publish_asset([*dbt_models.keys, *exports.keys])
    return dg.Definitions(
        assets=[configuration, *raw_assets, dbt_models, exports, publish],
        jobs=[daily_job],
        schedules=[daily_schedule],
        sensors=[build_landing_sensor(settings.data_dir)],
        resources={
            "cmart": CampaignMartResource(
                data_dir=str(settings.data_dir),
                run_date=settings.run_date.isoformat() if settings.run_date else "",
                lock_timeout_seconds=lock_timeout_seconds,
            ),
            "dbt": dbt_resource(settings),
        },
    )
