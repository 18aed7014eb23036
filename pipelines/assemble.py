"""Assemble the Dagster Definitions for one data dir (no side effects on import)."""

from __future__ import annotations

import dagster as dg

from cmart.config import load_config
from cmart.settings import Settings
from pipelines.defs.decisioning.checks import consent_gate
from pipelines.defs.exports.assets import (
    after_contact_delivery,
    build_contact_history_asset,
    build_export_assets,
    contact_history_delivery,
    sales_force_export,
)
from pipelines.defs.ingest.assets import configuration, raw_assets
from pipelines.defs.intraday.assets import intraday_reissue
from pipelines.defs.intraday.jobs import intraday_job
from pipelines.defs.intraday.sensors import build_response_sensor
from pipelines.defs.jobs import build_landing_sensor, daily_job, daily_schedule
from pipelines.defs.ml.assets import propensity_model
from pipelines.defs.ml.schedules import propensity_training_job, weekly_training_schedule
from pipelines.defs.outbox.assets import fulfilment_outbox
from pipelines.defs.publish.assets import build_publish_asset
from pipelines.defs.reporting.assets import campaign_report
from pipelines.defs.reporting.checks import alerts_asset_key, build_alert_check
from pipelines.defs.transform.assets import build_dbt_assets
from pipelines.lib.dbt import dbt_resource, prepare_manifest
from pipelines.lib.resources import CampaignMartResource


def build_definitions(settings: Settings, *, lock_timeout_seconds: float = 0.0) -> dg.Definitions:
    manifest_path = prepare_manifest(settings)
    config = load_config(settings.config_dirs)
    dbt_models = build_dbt_assets(manifest_path)
    exports = build_export_assets(config)
    contact_history = build_contact_history_asset(config)
    exported = [*exports.keys, sales_force_export.key, *contact_history.keys]
    publish = build_publish_asset([*dbt_models.keys, *exported])
    alerts_key = alerts_asset_key(list(dbt_models.keys))
    reporting_checks = [build_alert_check(alerts_key)] if alerts_key else []
    return dg.Definitions(
        assets=[
            configuration,
            contact_history_delivery,
            *(after_contact_delivery(asset) for asset in raw_assets),
            dbt_models,
            exports,
            sales_force_export,
            contact_history,
            fulfilment_outbox,
            intraday_reissue,
            publish,
            campaign_report,
            propensity_model,
        ],
        asset_checks=[consent_gate, *reporting_checks],
        jobs=[daily_job, intraday_job, propensity_training_job],
        schedules=[daily_schedule, weekly_training_schedule],
        sensors=[
            build_landing_sensor(settings.data_dir),
            build_response_sensor(settings.data_dir),
        ],
        resources={
            "cmart": CampaignMartResource(
                data_dir=str(settings.data_dir),
                run_date=settings.run_date.isoformat() if settings.run_date else "",
                lock_timeout_seconds=lock_timeout_seconds,
            ),
            "dbt": dbt_resource(settings),
        },
    )
