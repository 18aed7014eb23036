"""The fulfilment outbox asset: after dbt, emit each new fulfilment request exactly once."""

import dagster as dg

from cmart.outbox import publish_outbox
from pipelines.lib.resources import CampaignMartResource

FULFILMENT_REQUEST_KEY = dg.AssetKey(["campaign", "fct_fulfilment_request"])
OUTBOX_KEY = dg.AssetKey(["outbox", "fulfilment"])


@dg.asset(
    key=OUTBOX_KEY,
    deps=[FULFILMENT_REQUEST_KEY],
    group_name="outbox",
    kinds={"json"},
    description="Fulfilment requests (campaign.fct_fulfilment_request) not emitted before, as "
    "one JSON-lines batch file in data/outbox/fulfilment/ named by run date and a hash of its "
    "keys, then recorded in the ledger _published.parquet (write-ahead: a crash between the "
    "two is rolled forward by the next run). Re-runs and replayed response files emit nothing "
    "new: every idempotency key leaves the mart once.",
)
def fulfilment_outbox(context: dg.AssetExecutionContext, cmart: CampaignMartResource):
    settings = cmart.settings()
    report = publish_outbox(settings.warehouse_path, settings.outbox_dir, settings.run_date)
    if report.recovered:
        context.log.warning(f"adopted {report.recovered} request(s) of an interrupted run")
    written = report.batch_file.name if report.batch_file else "nothing new"
    context.log.info(f"fulfilment outbox: {report.emitted} new request(s), {written}")
    return dg.MaterializeResult(
        metadata={
            "emitted": dg.MetadataValue.int(report.emitted),
            "recovered": dg.MetadataValue.int(report.recovered),
            "total_published": dg.MetadataValue.int(report.total_published),
            "batch_file": dg.MetadataValue.text(written),
            "folder": dg.MetadataValue.path(str(report.folder)),
        }
    )
