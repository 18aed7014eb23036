"""The weekly training job and its schedule (stopped by default, like the daily one)."""

import dagster as dg

from pipelines.defs.ml.assets import ML_GROUP

propensity_training_job = dg.define_asset_job(
    "propensity_training",
    selection=dg.AssetSelection.groups(ML_GROUP),
    executor_def=dg.in_process_executor,
    description="Retrain the propensity model on the latest feature table and activate it; "
    "the next daily run scores with it.",
)

weekly_training_schedule = dg.ScheduleDefinition(
    name="propensity_weekly",
    job=propensity_training_job,
    cron_schedule="0 3 * * 0",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Retrain the propensity model every Sunday at 03:00 UTC.",
)
