"""The intraday job: what a new response file changes, and nothing else."""

import dagster as dg

from pipelines.defs.exports.partitions import run_date_partitions
from pipelines.defs.ingest.assets import CONFIG_TABLES
from pipelines.defs.intraday.assets import INTRADAY_GROUP, INTRADAY_JOB_NAME

RAW_RESPONSES_KEY = dg.AssetKey(["raw", "responses"])
# What a response changes today: the models between the responses and the decision, the
# fulfilment requests and the response facts. The decision models re-decide only the customers
# who answered (decision scope `responses`, cmart/decision_scope.py). Reports, the
# customer-360 card and the sales-force list catch up in the next daily run (they do not gate
# any list).
DECISION_KEYS = (
    dg.AssetKey(["decisioning", "nbo"]),
    dg.AssetKey(["decisioning", "fct_offer_eligibility"]),
    dg.AssetKey(["campaign", "fct_fulfilment_request"]),
    dg.AssetKey(["campaign", "fct_response"]),
)
# Downstream of responses only through their inferred members (ids a response names that the
# dimension lacks) or response-derived columns no decision reads: the next daily run refreshes
# them. Rebuilding them (and their tests) would double the intraday dbt work.
DAILY_ONLY_KEYS = (
    dg.AssetKey(["core", "dim_customer"]),
    dg.AssetKey(["core", "dim_channel"]),
    dg.AssetKey(["core", "dim_offer"]),
    dg.AssetKey(["campaign", "fct_contact"]),
    # The propensities are estimated (or scored) once a day: an answer changes the decision
    # through the suppression rules, not through a re-estimated rate for everyone.
    dg.AssetKey(["intermediate", "int_propensity_estimated"]),
    dg.AssetKey(["intermediate", "int_propensity_features_assembled"]),
    dg.AssetKey(["intermediate", "int_propensity_scored"]),
    dg.AssetKey(["decisioning", "propensity_scores"]),
)
AFTER_DECISION_KEYS = (
    dg.AssetKey(["outbox", "fulfilment"]),
    dg.AssetKey(["published", "campaign_mart"]),
)
# The configuration is read again (the `configuration` asset and its staging views, a second
# or two): a setting the CRM team changed since the morning applies to the next re-decision,
# and a code upgrade that adds a configuration column does not break the intraday job until
# the next daily run.
CONFIG_KEYS = tuple(
    key
    for table in CONFIG_TABLES
    for key in (dg.AssetKey(["config", table]), dg.AssetKey(["staging", f"stg_config__{table}"]))
)

INTRADAY_SELECTION = (
    (
        dg.AssetSelection.assets(RAW_RESPONSES_KEY).downstream()
        & dg.AssetSelection.assets(*DECISION_KEYS).upstream()
        - dg.AssetSelection.assets(*DAILY_ONLY_KEYS)
    )
    | dg.AssetSelection.assets(*AFTER_DECISION_KEYS)
    | dg.AssetSelection.assets(*CONFIG_KEYS)
    | dg.AssetSelection.groups(INTRADAY_GROUP)
)

intraday_job = dg.define_asset_job(
    INTRADAY_JOB_NAME,
    selection=INTRADAY_SELECTION,
    executor_def=dg.in_process_executor,
    partitions_def=run_date_partitions,
    description="Re-read the configuration, load new response files, rebuild only the dbt "
    "models between the responses and the decision (dagster-dbt passes the selection to "
    "`dbt build`), emit new fulfilment requests, re-issue the day's lists without the answered "
    "pairs or with their revisions (versioned, with deltas) and re-publish the snapshot. "
    "Started by the `response_files` sensor.",
)
