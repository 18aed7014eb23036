"""The intraday re-issue of the day's channel lists (versioned, with suppression deltas)."""

import dagster as dg

from cmart.config import load_config
from cmart.exports import add_to_contact_history
from cmart.list_versions import reissue_lists
from pipelines.defs.exports.partitions import run_date_partitions
from pipelines.lib.resources import CampaignMartResource

INTRADAY_GROUP = "intraday"
INTRADAY_JOB_NAME = "intraday_responses"
NBO_KEY = dg.AssetKey(["decisioning", "nbo"])
ELIGIBILITY_KEY = dg.AssetKey(["decisioning", "fct_offer_eligibility"])
REISSUE_KEY = dg.AssetKey(["exports", "intraday_reissue"])


@dg.asset(
    key=REISSUE_KEY,
    deps=[NBO_KEY, ELIGIBILITY_KEY],
    group_name=INTRADAY_GROUP,
    partitions_def=run_date_partitions,
    kinds={"csv", "parquet"},
    description="Re-issues the day's channel lists already handed out, without the "
    "customer-offer pairs today's decision now suppresses (an answer on any channel: "
    "responded_recently). Each list folder keeps the current version as offers.csv/.parquet, "
    "earlier ones in versions/<k>/ and suppressions_since_v<k>.csv (customer_id, offer_id, "
    "reason) per earlier version; with settings revise_after_response, the replacements of "
    "answered pairs come in on the same channel and revisions_since_v<k>.csv lists them. "
    "Swapped in atomically. Untouched lists keep their version.",
)
def intraday_reissue(context: dg.AssetExecutionContext, cmart: CampaignMartResource):
    settings = cmart.settings()
    config = load_config(settings.config_dirs)
    reissued = reissue_lists(
        settings.warehouse_path,
        settings.exports_dir,
        config.channels,
        settings.run_date,
        run_id=context.run_id,
    )
    # whenever revisions are on, not only when this call added some: a run interrupted after
    # the lists were re-issued still records the revised contacts when re-run
    if config.decisioning.revise_after_response:
        contacts = add_to_contact_history(
            settings.warehouse_path,
            settings.outbox_dir,
            settings.exports_dir,
            config,
            settings.run_date,
        )
        context.log.info(f"contact history: {contacts} revised pair(s) added")
    for item in reissued:
        if item.removed or item.added:
            context.log.info(
                f"{item.channel}: version {item.version}, {item.removed} pair(s) suppressed, "
                f"{item.added} revised in, {item.rows:,} rows"
            )
    return dg.MaterializeResult(
        metadata={
            "removed": dg.MetadataValue.json({item.channel: item.removed for item in reissued}),
            "added": dg.MetadataValue.json({item.channel: item.added for item in reissued}),
            "versions": dg.MetadataValue.json({item.channel: item.version for item in reissued}),
        }
    )
