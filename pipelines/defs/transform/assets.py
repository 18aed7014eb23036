"""Transform: every dbt model (and its tests, as asset checks) through dagster-dbt."""

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from cmart.decision_scope import FULL_SCOPE, intraday_scope
from pipelines.defs.intraday.assets import INTRADAY_JOB_NAME
from pipelines.lib.dbt import apply_dbt_env, build_args, decision_scope_environ
from pipelines.lib.resources import CampaignMartResource
from pipelines.lib.translator import CampaignMartTranslator


def build_dbt_assets(manifest_path: Path) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=manifest_path,
        dagster_dbt_translator=CampaignMartTranslator(),
        name="dbt_models",
    )
    def dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, cmart: CampaignMartResource
    ):
        settings = cmart.settings()
        scope = FULL_SCOPE
        if context.run.job_name == INTRADAY_JOB_NAME:
            decided = intraday_scope(settings.warehouse_path, settings.run_date)
            context.log.info(f"decision scope: {decided.scope} ({decided.reason})")
            scope = decided.scope
        apply_dbt_env(settings)
        with decision_scope_environ(scope):  # read when the dbt process starts
            invocation = dbt.cli(
                build_args(settings),
                context=context,
                target_path=settings.dbt_target_dir / "build",
            )
        yield from invocation.stream()

    return dbt_models
