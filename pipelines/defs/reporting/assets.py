"""The daily HTML report, written from the published snapshot (read-only) after publishing."""

import dagster as dg

from cmart.report import write_report
from pipelines.defs.publish.assets import PUBLISHED_KEY
from pipelines.lib.resources import CampaignMartResource

REPORT_KEY = dg.AssetKey(["reports", "campaign_report"])


@dg.asset(
    key=REPORT_KEY,
    deps=[PUBLISHED_KEY],
    group_name="publish",
    kinds={"html", "plotly"},
    description="data/reports/<run_date>/report.html: one self-contained HTML page (plotly.js "
    "inline) with the response funnel by channel, hard-response rate by region and city, top "
    "and bottom offers, lift with 95% intervals, the trend over days and the offer alerts. "
    "Reads the published snapshot, read-only.",
)
def campaign_report(
    context: dg.AssetExecutionContext, cmart: CampaignMartResource
) -> dg.MaterializeResult:
    settings = cmart.settings()
    published = settings.published_dir / "campaign_mart.duckdb"
    path = write_report(
        published, settings.reports_dir, settings.run_date, models_dir=settings.models_dir
    )
    context.log.info(f"wrote the report {path}")
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(path)), "bytes": path.stat().st_size}
    )
