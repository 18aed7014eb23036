"""Ingest: configuration and one raw asset per landing source (loaders do the work)."""

import dagster as dg
import duckdb

from cmart.config import CONFIG_TABLE_SCHEMAS, load_config, write_config_tables
from loaders import SOURCES, SourceLoadReport, load_source
from pipelines.defs.ingest.checks import gx_check_results, gx_check_specs
from pipelines.lib.resources import CampaignMartResource

CONFIG_TABLES = (*CONFIG_TABLE_SCHEMAS, "config_version")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["config", table],
            group_name="ingest",
            description=f"CRM configuration table config.{table}, validated on load.",
            kinds={"duckdb"},
        )
        for table in CONFIG_TABLES
    ],
    name="configuration",
)
def configuration(context: dg.AssetExecutionContext, cmart: CampaignMartResource):
    """Validate the CRM configuration files and write them to the warehouse's config schema."""
    settings = cmart.settings()
    config = load_config(settings.config_dirs)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        write_config_tables(con, config)
    context.log.info(f"configuration version {config.version}")
    for table in CONFIG_TABLES:
        yield dg.MaterializeResult(
            asset_key=["config", table],
            metadata={
                "config_version": config.version,
                "files": dg.MetadataValue.json(config.files),
            },
        )


def _load_metadata(report: SourceLoadReport) -> dict[str, dg.MetadataValue]:
    files = [
        {
            "file": str(item.path),
            "status": item.status,
            "read": item.rows_read,
            "loaded": item.rows_loaded,
            "quarantined": item.rows_quarantined,
            "message": item.message,
        }
        for item in report.files
    ]
    return {
        "rows_loaded": dg.MetadataValue.int(report.rows_loaded),
        "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined),
        "files": dg.MetadataValue.json(files),
    }


def build_raw_asset(source: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", source])

    @dg.asset(
        key=key,
        group_name="ingest",
        description=f"Landing files of `{source}` validated with its GX suite and loaded into "
        f"raw.{source}; bad rows in raw._quarantine, every file in raw._load_manifest.",
        check_specs=gx_check_specs(key),
        deps=[dg.AssetKey(["config", "channels"]), dg.AssetKey(["config", "response_types"])],
        kinds={"duckdb", "great_expectations"},
    )
    def _raw_asset(context: dg.AssetExecutionContext, cmart: CampaignMartResource):
        settings = cmart.settings()
        config = load_config(settings.config_dirs)
        report = load_source(
            settings.warehouse_path,
            settings.landing_dir,
            source,
            config,
            progress=context.log.info,
        )
        return dg.MaterializeResult(
            metadata=_load_metadata(report),
            check_results=gx_check_results(key, report, config),
        )

    return _raw_asset


raw_assets = [build_raw_asset(source) for source in SOURCES]
