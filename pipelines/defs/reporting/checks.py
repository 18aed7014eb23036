"""The offer alerts of rpt_offer_alerts surfaced as a non-blocking asset check (WARN)."""

import dagster as dg

from cmart.report import offer_alerts
from pipelines.lib.resources import CampaignMartResource

ALERTS_MODEL = "rpt_offer_alerts"
ALERTS_CHECK = "no_low_performing_offers"


def alerts_asset_key(keys: list[dg.AssetKey]) -> dg.AssetKey | None:
    """The dbt asset of rpt_offer_alerts among the dbt assets' keys."""
    return next((key for key in keys if key.path[-1] == ALERTS_MODEL), None)


def build_alert_check(alerts_key: dg.AssetKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=alerts_key,
        name=ALERTS_CHECK,
        blocking=False,
        description="Offers that break a low-performer rule of settings.yml `reporting:` "
        "(hard-response rate below a share of the expected rate, or lift against control "
        "not above 0). Warns, never blocks: the CRM team acts on the alerts the same day.",
    )
    def no_low_performing_offers(cmart: CampaignMartResource) -> dg.AssetCheckResult:
        alerts = offer_alerts(cmart.settings().warehouse_path)
        critical = [alert for alert in alerts if alert.severity == "critical"]
        return dg.AssetCheckResult(
            passed=not alerts,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"{len(alerts)} offer alert(s), {len(critical)} critical"
                if alerts
                else "no offer breaks an alert rule"
            ),
            metadata={
                "n_alerts": len(alerts),
                "n_critical": len(critical),
                "alerts": dg.MetadataValue.md(_alerts_markdown(alerts)),
                "offers": dg.MetadataValue.json(
                    [
                        {
                            "offer_id": alert.offer_id,
                            "campaign_id": alert.campaign_id,
                            "severity": alert.severity,
                            "rules": alert.alert_rules,
                            "message": alert.alert_message,
                        }
                        for alert in alerts
                    ]
                ),
            },
        )

    return no_low_performing_offers


def _alerts_markdown(alerts: list) -> str:
    if not alerts:
        return "No alerts."
    lines = ["| severity | offer | campaign | rules | message |", "|---|---|---|---|---|"]
    lines += [
        f"| {a.severity} | {a.offer_id} | {a.campaign_id or ''} | {a.alert_rules} | "
        f"{a.alert_message} |"
        for a in alerts
    ]
    return "\n".join(lines)
