"""Transform: every dbt model (and its tests, as asset checks) through dagster-dbt."""

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.lib.dbt import apply_dbt_env, build_args
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
        apply_dbt_env(settings)
        invocation = dbt.cli(
            build_args(settings),
            context=context,
            target_path=settings.dbt_target_dir / "build",
        )
        yield from invocation.stream()

    return dbt_models
