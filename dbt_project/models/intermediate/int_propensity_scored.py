"""int_propensity_scored: one row per customer, product (on the customer's path, not held,
with an active offer) and candidate channel, scored by the active propensity model
(<data-dir>/models/active.json; env CMART_MODELS_DIR, set by the pipeline), or by the
segment rate of int_propensity_estimated when no model is active. The scoring logic lives in
cmart.propensity.scoring; this model only hands it the rows in Arrow
batches. decisioning.propensity_scores publishes it under a contract (Python models cannot
have one)."""

SCORING_BATCH_ROWS = 250_000


def model(dbt, session):
    from cmart.propensity.scoring import propensity_scores

    dbt.config(materialized="table")
    models_dir = dbt.config.get("propensity_models_dir")
    features = dbt.ref("int_propensity_features_assembled").filter("row_kind = 'scoring'")
    estimated = dbt.ref("int_propensity_estimated").to_arrow_table()
    batches = features.to_arrow_reader(SCORING_BATCH_ROWS)
    return propensity_scores(batches, estimated, models_dir or None)
