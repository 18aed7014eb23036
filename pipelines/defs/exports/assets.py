"""Exports: one asset per configured channel, all written by one step from the `nbo` mart."""

import dagster as dg

from cmart.config import CampaignConfig, load_config
from cmart.exports import export_channels
from pipelines.lib.resources import CampaignMartResource

NBO_KEY = dg.AssetKey(["decisioning", "nbo"])


def channel_key(channel: str) -> dg.AssetKey:
    return dg.AssetKey(["exports", channel])


def build_export_assets(config: CampaignConfig) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            channel_key(channel.channel_code),
            deps=[NBO_KEY],
            group_name="exports",
            description=f"Today's next-best-offer list for {channel.channel_name}: "
            f"data/exports/{channel.channel_code}/<run_date>/ (offers.csv, offers.parquet, "
            "_manifest.json), written atomically; control-group customers left out.",
            kinds={"csv", "parquet"},
            skippable=True,
        )
        for channel in config.channels
    ]

    @dg.multi_asset(specs=specs, name="channel_exports", can_subset=True)
    def channel_exports(context: dg.AssetExecutionContext, cmart: CampaignMartResource):
        settings = cmart.settings()
        current = load_config(settings.config_dirs)
        wanted = [key.path[-1] for key in context.selected_asset_keys]
        exports = export_channels(
            settings.warehouse_path,
            settings.exports_dir,
            current,
            settings.run_date,
            run_id=context.run_id,
            channels=wanted,
        )
        for export in exports:
            context.log.info(f"exported {export.rows:,} rows to {export.folder}")
            yield dg.MaterializeResult(
                asset_key=channel_key(export.channel),
                metadata={
                    "rows": dg.MetadataValue.int(export.rows),
                    "folder": dg.MetadataValue.path(str(export.folder)),
                    "config_version": current.version,
                    "sha256": dg.MetadataValue.json(export.files),
                },
            )

    return channel_exports
