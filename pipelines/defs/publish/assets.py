"""Publish: the analysts' read-only snapshot, written only after everything upstream passed."""

from collections.abc import Iterable

import dagster as dg

from cmart.config import load_config
from cmart.publish import PUBLISHED_SCHEMAS, publish_snapshot
from pipelines.lib.resources import CampaignMartResource

PUBLISHED_KEY = dg.AssetKey(["published", "campaign_mart"])


def published_table(key: dg.AssetKey) -> str | None:
    """`schema.table` of a dbt model's asset key in a published schema, else None."""
    if len(key.path) == 2 and key.path[0] in PUBLISHED_SCHEMAS:
        return f"{key.path[0]}.{key.path[1]}"
    return None


def tables_to_refresh(
    selected: Iterable[dg.AssetKey] | None, upstream: Iterable[dg.AssetKey]
) -> list[str] | None:
    """The published tables a run rebuilt, when it rebuilt only some of them (the intraday
    job); None when it rebuilt all of them (the daily job) or the selection is unknown."""
    if selected is None:
        return None
    chosen = set(selected)
    published = {key for key in upstream if published_table(key)}
    if published <= chosen:
        return None
    return sorted(table for key in published & chosen if (table := published_table(key)))


def build_publish_asset(upstream: Iterable[dg.AssetKey]) -> dg.AssetsDefinition:
    upstream_keys = sorted(set(upstream), key=lambda key: key.to_user_string())

    @dg.asset(
        key=PUBLISHED_KEY,
        deps=upstream_keys,
        group_name="publish",
        kinds={"duckdb"},
        description="data/published/campaign_mart.duckdb: the mart schemas copied into a new "
        "file and renamed into place (write–audit–publish) after the dbt tests and the "
        "blocking checks upstream have passed, with an `analyst` schema of views that mask "
        "personal data (settings.yml reporting.pii_columns). Analysts read this file, never "
        "the warehouse. A run that rebuilt only some marts (intraday) starts from a copy of "
        "the day's snapshot and replaces just those tables.",
    )
    def published_mart(context: dg.AssetExecutionContext, cmart: CampaignMartResource):
        settings = cmart.settings()
        pii_columns = load_config(settings.config_dirs).reporting.pii_columns
        refresh = tables_to_refresh(context.run.asset_selection, upstream_keys)
        report = publish_snapshot(
            settings.warehouse_path,
            settings.published_dir,
            pii_columns=pii_columns,
            run_date=settings.run_date,
            refresh=refresh,
        )
        context.log.info(
            f"published {len(report.tables)} tables to {report.path} ({report.mode}: "
            f"{len(report.copied)} copied from the warehouse)"
        )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(report.path)),
                "tables": dg.MetadataValue.json(report.tables),
                "mode": report.mode,
                "copied": dg.MetadataValue.json(report.copied),
                "analyst_views": dg.MetadataValue.json(report.analyst_views),
            }
        )

    return published_mart
