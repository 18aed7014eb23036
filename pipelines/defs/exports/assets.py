"""Exports: one asset per configured channel (all written by one step from the `nbo` mart),
the sales force's list, and the contact-history write-back that closes the loop.

Every export is partitioned by run date. They run after the blocking `consent_gate` check on
`decisioning/nbo`: when it fails, no list is written.
"""

import dagster as dg

from cmart.config import CampaignConfig, load_config
from cmart.exports import (
    deliver_contact_history,
    export_channels,
    export_sales_force,
    write_contact_history,
)
from pipelines.defs.exports.partitions import run_date_partitions
from pipelines.lib.resources import CampaignMartResource

NBO_KEY = dg.AssetKey(["decisioning", "nbo"])
SALES_FORCE_LIST_KEY = dg.AssetKey(["decisioning", "sales_force_list"])
SALES_FORCE_EXPORT_KEY = dg.AssetKey(["exports", "sales_force"])
CONTACT_HISTORY_KEY = dg.AssetKey(["exports", "contact_history"])
CONTACT_DELIVERY_KEY = dg.AssetKey(["landing", "contact_history"])
RAW_CONTACTS_KEY = dg.AssetKey(["raw", "contacts"])


def channel_key(channel: str) -> dg.AssetKey:
    return dg.AssetKey(["exports", channel])


def build_export_assets(config: CampaignConfig) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            channel_key(channel.channel_code),
            deps=[NBO_KEY],
            group_name="exports",
            description=f"The day's next-best-offer list for {channel.channel_name}: "
            f"data/exports/{channel.channel_code}/<run_date>/ (offers.csv, offers.parquet, "
            "_manifest.json), written atomically; control-group customers left out.",
            kinds={"csv", "parquet"},
            partitions_def=run_date_partitions,
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


@dg.asset(
    key=SALES_FORCE_EXPORT_KEY,
    deps=[SALES_FORCE_LIST_KEY, NBO_KEY],
    group_name="exports",
    partitions_def=run_date_partitions,
    kinds={"csv", "parquet"},
    description="The sales force's list of the day: data/exports/sales_force/<run_date>/ "
    "(sales_force_list.csv, sales_force_list.parquet, _manifest.json), one row per customer "
    "and offer with branch_id and rep_id columns and customer_360 talking points, written "
    "atomically from the decisioning.sales_force_list mart.",
)
def sales_force_export(context: dg.AssetExecutionContext, cmart: CampaignMartResource):
    settings = cmart.settings()
    config = load_config(settings.config_dirs)
    export = export_sales_force(
        settings.warehouse_path,
        settings.exports_dir,
        settings.run_date,
        run_id=context.run_id,
        config_version=config.version,
    )
    context.log.info(f"exported {export.rows:,} sales-force rows to {export.folder}")
    return dg.MaterializeResult(
        metadata={
            "rows": dg.MetadataValue.int(export.rows),
            "folder": dg.MetadataValue.path(str(export.folder)),
            "config_version": config.version,
            "sha256": dg.MetadataValue.json(export.files),
        }
    )


def build_contact_history_asset(config: CampaignConfig) -> dg.AssetsDefinition:
    @dg.asset(
        key=CONTACT_HISTORY_KEY,
        deps=[NBO_KEY, *(channel_key(code) for code in config.channel_codes)],
        group_name="exports",
        partitions_def=run_date_partitions,
        kinds={"parquet"},
        description="Contact history of the day (the loop closes): every nbo row of a channel "
        "whose list was written, control group included (is_control), in the `contacts` "
        "landing format, at data/outbox/contacts/nbo_<run_date>.parquet. The first run of a "
        "later day delivers it to data/landing/contacts/ (asset landing/contact_history). "
        "contact_id hashes (run date, customer, offer, channel): a re-run writes the same ids.",
    )
    def contact_history(context: dg.AssetExecutionContext, cmart: CampaignMartResource):
        settings = cmart.settings()
        current = load_config(settings.config_dirs)
        written = write_contact_history(
            settings.warehouse_path,
            settings.outbox_dir,
            settings.exports_dir,
            current,
            settings.run_date,
        )
        context.log.info(
            f"contact history: {written.rows:,} rows ({written.control_rows:,} control) in "
            f"{written.path}" + ("" if written.changed else " (unchanged)")
        )
        return dg.MaterializeResult(
            metadata={
                "rows": dg.MetadataValue.int(written.rows),
                "control_rows": dg.MetadataValue.int(written.control_rows),
                "path": dg.MetadataValue.path(str(written.path)),
                "sha256": written.sha256,
                "changed": written.changed,
            }
        )

    return contact_history


@dg.asset(
    key=CONTACT_DELIVERY_KEY,
    group_name="ingest",
    kinds={"parquet"},
    description="Delivers the contact-history write-back of earlier run dates from "
    "data/outbox/contacts/ to data/landing/contacts/ before the contacts are loaded; the "
    "run date's own file waits for the next day, so a re-run of a day decides on the same "
    "history. Identical files are left untouched (the loader skips a file it loaded).",
)
def contact_history_delivery(context: dg.AssetExecutionContext, cmart: CampaignMartResource):
    settings = cmart.settings()
    delivered = deliver_contact_history(
        settings.outbox_dir, settings.landing_dir, settings.run_date
    )
    for path in delivered:
        context.log.info(f"delivered {path}")
    return dg.MaterializeResult(
        metadata={"delivered": dg.MetadataValue.json([str(path) for path in delivered])}
    )


def after_contact_delivery(assets_def: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """Make the raw contacts load wait for the write-back delivery (no-op for other assets)."""
    if RAW_CONTACTS_KEY not in assets_def.keys:
        return assets_def
    return assets_def.map_asset_specs(
        lambda spec: (
            spec.merge_attributes(deps=[CONTACT_DELIVERY_KEY])
            if spec.key == RAW_CONTACTS_KEY
            else spec
        )
    )
