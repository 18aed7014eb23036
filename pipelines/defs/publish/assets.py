"""Publish: the analysts' read-only snapshot, written only after everything upstream passed."""

from collections.abc import Iterable

import dagster as dg

from cmart.config import load_config
from cmart.publish import publish_snapshot
from pipelines.lib.resources import CampaignMartResource

PUBLISHED_KEY = dg.AssetKey(["published", "campaign_mart"])


def build_publish_asset(upstream: Iterable[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY,
        deps=sorted(set(upstream), key=lambda key: key.to_user_string()),
        group_name="publish",
        kinds={"duckdb"},
        description="data/published/campaign_mart.duckdb: the mart schemas copied into a new "
        "file and renamed into place (write–audit–publish) after the dbt tests and the "
        "blocking checks upstream have passed, with an `analyst` schema of views that mask "
        "personal data (settings.yml reporting.pii_columns). Analysts read this file, never "
        "the warehouse.",
    )
    def published_mart(context: dg.AssetExecutionContext, cmart: CampaignMartResource):
        settings = cmart.settings()
        pii_columns = load_config(settings.config_dirs).reporting.pii_columns
        report = publish_snapshot(
            settings.warehouse_path, settings.published_dir, pii_columns=pii_columns
        )
        context.log.info(f"published {len(report.tables)} tables to {report.path}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(report.path)),
                "tables": dg.MetadataValue.json(report.tables),
                "analyst_views": dg.MetadataValue.json(report.analyst_views),
            }
        )

    return published_mart
