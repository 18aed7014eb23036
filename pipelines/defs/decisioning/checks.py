"""The consent gate: a blocking check on `decisioning/nbo` that runs before any list is written."""

import dagster as dg
import duckdb

from cmart.consent_gate import check_consent
from pipelines.lib.resources import CampaignMartResource

NBO_KEY = dg.AssetKey(["decisioning", "nbo"])
SAMPLE_ROWS = 20


@dg.asset_check(
    asset=NBO_KEY,
    name="consent_gate",
    blocking=True,
    description="Recomputes consent (latest event per customer, channel and topic; `all` "
    "opt-outs, topic opt-outs, opt-in channels) and the e-mail / postal-address preferences "
    "from the staging tables alone, and fails (the channel and sales-force lists are then not "
    "written) if any non-control nbo row of the run date violates them.",
)
def consent_gate(cmart: CampaignMartResource) -> dg.AssetCheckResult:
    settings = cmart.settings()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        result = check_consent(con, settings.run_date)
    sample = result.violations.slice(0, SAMPLE_ROWS).to_pylist()
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{result.violations.num_rows:,} of {result.rows_checked:,} non-control "
        f"nbo rows of {settings.run_date} violate consent or preferences",
        metadata={
            "run_date": settings.run_date.isoformat(),
            "rows_checked": dg.MetadataValue.int(result.rows_checked),
            "violating_rows": dg.MetadataValue.int(result.violations.num_rows),
            "by_reason": dg.MetadataValue.json(result.counts_by("reasons")),
            "by_channel": dg.MetadataValue.json(result.counts_by("channel")),
            "sample": dg.MetadataValue.json(sample),
        },
    )
