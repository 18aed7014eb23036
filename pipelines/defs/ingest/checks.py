"""Asset checks on the raw loads: the GX suite's verdict and the files rejected whole."""

from __future__ import annotations

import dagster as dg

from cmart.config import CampaignConfig
from loaders import SourceLoadReport

GX_CHECK = "gx_suite"
FILES_CHECK = "files_accepted"


def gx_check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            GX_CHECK,
            asset=key,
            blocking=True,
            description="Great Expectations suite on every new batch; fails (and blocks "
            "downstream) when the quarantined share exceeds quality.max_quarantine_share. "
            "Batches smaller than quality.min_rows_for_share_gate only warn: one bad row in "
            "a ten-row reference file is not a systemic failure.",
        ),
        dg.AssetCheckSpec(
            FILES_CHECK,
            asset=key,
            description="No landing file was rejected whole (unreadable, missing a required "
            "column, unsupported extension).",
        ),
    ]


def _expectation_rows(report: SourceLoadReport) -> list[dict[str, object]]:
    return [
        {
            "expectation": result.expectation_type,
            "column": result.column,
            "success": result.success,
            "unexpected_count": result.unexpected_count,
        }
        for result in report.validation
    ]


def gx_check_results(
    key: dg.AssetKey, report: SourceLoadReport, config: CampaignConfig
) -> list[dg.AssetCheckResult]:
    rows_seen = report.rows_loaded + report.rows_quarantined
    share = report.rows_quarantined / rows_seen if rows_seen else 0.0
    limit = config.quality.max_quarantine_share
    gated = rows_seen >= config.quality.min_rows_for_share_gate
    rejected = [item for item in report.files if item.status == "rejected"]
    return [
        dg.AssetCheckResult(
            asset_key=key,
            check_name=GX_CHECK,
            passed=share <= limit,
            severity=dg.AssetCheckSeverity.ERROR if gated else dg.AssetCheckSeverity.WARN,
            description=f"{report.rows_quarantined:,} of {rows_seen:,} new rows quarantined "
            f"({share:.2%}; limit {limit:.2%})"
            + ("" if gated else " — batch below quality.min_rows_for_share_gate: warning only"),
            metadata={
                "quarantined_share": dg.MetadataValue.float(share),
                "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined),
                "expectations": dg.MetadataValue.json(_expectation_rows(report)),
            },
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=FILES_CHECK,
            passed=not rejected,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{len(rejected)} file(s) rejected"
            if rejected
            else "all new files accepted",
            metadata={
                "rejected": dg.MetadataValue.json(
                    [{"file": str(item.path), "message": item.message} for item in rejected]
                )
            },
        ),
    ]
