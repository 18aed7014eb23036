"""The propensity model end to end on the daily run's world: no feature cost while no model is
active, point-in-time features, training with versioned artifacts, scoring inside `dbt build`,
arbitration using the model's score once active, the schema check, and decision quality
against the planted truth."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from cmart.config import load_config
from cmart.propensity import artifacts
from cmart.propensity.evaluate import decision_quality
from cmart.propensity.features import ensure_training_rows
from cmart.propensity.metrics import auc
from cmart.propensity.schema import (
    FEATURE_TABLE,
    SEGMENT_RATE,
    SEGMENT_RATE_KEYS,
    FeatureSchemaError,
)
from cmart.propensity.scoring import score_with_model
from cmart.propensity.train import TrainResult, train_model
from cmart.settings import Settings
from pipelines.lib.dbt import dbt_command, dbt_env
from tests.conftest import PipelineRun

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Trained:
    settings: Settings
    result: TrainResult


def run_dbt(settings: Settings, verb: str, select: str) -> subprocess.CompletedProcess[str]:
    command = dbt_command(
        settings, verb, "--select", select, target_path=settings.dbt_target_dir / "build"
    )
    env = {**os.environ, **dbt_env(settings)}
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def trained(daily_run: PipelineRun, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """A copy of the daily run's data dir (the session's warehouse stays untouched), with a
    model trained and activated in it."""
    data_dir = tmp_path_factory.mktemp("propensity") / "data"
    shutil.copytree(daily_run.settings.data_dir, data_dir, ignore=shutil.ignore_patterns("*.lock"))
    settings = Settings(data_dir=data_dir, run_date=daily_run.settings.run_date)
    config = load_config(settings.config_dirs)
    assert ensure_training_rows(settings), "the daily run built no training rows"
    result = train_model(
        settings.warehouse_path, settings.models_dir, config, run_date=settings.run_date
    )
    return Trained(settings, result)


def test_without_an_active_model_no_features_are_built_and_nbo_uses_the_segment_rate(
    daily_run: PipelineRun,
):
    settings = daily_run.settings
    assert not (settings.models_dir / artifacts.ACTIVE_FILE).exists()
    [(n_features,)] = query(settings, f"select count(*) from {FEATURE_TABLE}")
    [(n_scores,)] = query(settings, "select count(*) from decisioning.propensity_scores")
    assert n_features == 0 and n_scores == 0
    # arbitration's propensity is exactly the segment rate, as before the model existed
    [(n_candidates, mismatches)] = query(
        settings,
        """
        select count(*), count(*) filter (
            where candidates.propensity is distinct from estimated.propensity
        )
        from intermediate.int_offer_candidates as candidates
        left join intermediate.int_propensity_estimated as estimated
            on candidates.segment_code = estimated.segment_code
            and candidates.product_id = estimated.product_id
            and candidates.channel = estimated.channel
        """,
    )
    assert n_candidates > 1000 and mismatches == 0


def test_features_are_point_in_time_and_the_training_sample_is_bounded(trained: Trained):
    settings = trained.settings
    label_days = load_config(settings.config_dirs).propensity.label_days
    end = dt.datetime.combine(settings.run_date + dt.timedelta(days=1), dt.time())
    [(n_contacts, latest, n_validation, positives)] = query(
        settings,
        f"""select count(*), max(as_of_at), count(*) filter (where is_validation),
            sum(is_hard_response) from {FEATURE_TABLE} where row_kind = 'contact'""",
    )
    assert n_contacts > 1000 and 0 < n_validation < n_contacts and positives > 10
    assert latest < end - dt.timedelta(days=label_days)  # only complete label windows
    [(scoring_as_of,)] = query(
        settings, f"select distinct as_of_at from {FEATURE_TABLE} where row_kind = 'scoring'"
    )
    assert scoring_as_of == end
    # a contact's history counts exclude the contact itself and anything after it
    [(leaks,)] = query(
        settings,
        f"""
        select count(*) from {FEATURE_TABLE} as features
        where row_kind = 'contact' and n_contacts > (
            select count(*) from campaign.fct_contact as contacts
            where contacts.customer_id = features.customer_id
                and not contacts.is_control
                and contacts.contacted_at < features.as_of_at
        )
        """,
    )
    assert leaks == 0


def test_training_writes_a_versioned_model_and_activates_it(trained: Trained):
    models_dir, result = trained.settings.models_dir, trained.result
    folder = models_dir / result.version
    for name in (artifacts.MODEL_FILE, artifacts.FEATURES_FILE, artifacts.METRICS_FILE):
        assert (folder / name).is_file(), name
    assert artifacts.active_version(models_dir) == result.version
    metrics = json.loads((folder / artifacts.METRICS_FILE).read_text())
    assert metrics["n_train"] > 1000 and metrics["n_validation"] > 500
    assert metrics["training_window"]["to"] < metrics["validation_window"]["from"]
    for side in ("model", "segment_rate_baseline"):
        assert 0.5 < metrics[side]["auc"] < 1.0, side
        assert metrics[side]["lift_top_decile"] > 1.0, side
        assert [row["decile"] for row in metrics[side]["calibration"]] == list(range(1, 11))
    # segment, product and channel reach the model only through the segment rate
    assert SEGMENT_RATE in metrics["features"] and "product_category" in metrics["features"]
    assert not set(SEGMENT_RATE_KEYS) & set(metrics["features"])
    assert metrics["uplift_by_decile"], "control groups give an uplift table"
    assert {row["decile"] for row in metrics["uplift_by_decile"]} <= set(range(1, 11))


def test_the_model_learns_the_planted_customer_level_acceptance(trained: Trained):
    """The planted world has customer-level signal (income, credit score, age, holdings, life
    events, responsiveness); the model finds some of it. At 3,000 customers (~300 training
    hard responses) its validation AUC is not reliably above the segment rate's (that holds at
    100k, docs/propensity.md), so this asserts what is stable at this size: the truth ranks
    validation contacts clearly better than the segment-level truth, the model stays close to
    the segment rate, and its score over the segment rate rises with the planted factor."""
    settings, metrics = trained.settings, trained.result.metrics
    truth = settings.truth_dir
    validation = query(
        settings,
        f"""
        select
            features.is_hard_response,
            cast(rates.p_hard as double),
            cast(rates.p_hard as double) * coalesce(effects.acceptance_factor, 1)
        from {FEATURE_TABLE} as features
        inner join '{truth}/customer_truth.parquet' as customers using (customer_id)
        inner join read_csv('{truth}/acceptance_rates.csv', all_varchar = true) as rates
            on customers.segment_code = rates.segment_code
            and features.product_id = rates.product_id
            and features.channel = rates.channel
        left join '{truth}/customer_effects.parquet' as effects
            on features.customer_id = effects.customer_id
            and features.product_id = effects.product_id
        where features.row_kind = 'contact' and features.is_validation
            and not features.is_control
        """,
    )
    labels, segment_p, true_p = (np.array(column) for column in zip(*validation, strict=True))
    true_auc, segment_auc = auc(labels, true_p), auc(labels, segment_p)
    assert true_auc > segment_auc + 0.02, (true_auc, segment_auc)
    model, baseline = metrics["model"]["auc"], metrics["segment_rate_baseline"]["auc"]
    assert model > baseline - 0.03, (model, baseline)
    loaded = artifacts.load_model(settings.models_dir, trained.result.version)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql(f"select * from {FEATURE_TABLE} where row_kind = 'scoring'").to_arrow_table()
        estimated = con.sql("select * from intermediate.int_propensity_estimated").to_arrow_table()
        scores = score_with_model(rows.to_batches(), loaded, estimated)
        con.register("scores", scores)
        [(correlation,)] = con.execute(
            f"""
            select corr(ln(scores.score / estimated.propensity), ln(effects.acceptance_factor))
            from scores
            inner join {FEATURE_TABLE} as features
                on features.row_kind = 'scoring'
                and scores.customer_id = features.customer_id
                and scores.product_id = features.product_id
            inner join intermediate.int_propensity_estimated as estimated
                on features.segment_code = estimated.segment_code
                and scores.product_id = estimated.product_id
                and scores.channel = estimated.channel
            inner join '{truth}/customer_effects.parquet' as effects
                on scores.customer_id = effects.customer_id
                and scores.product_id = effects.product_id
            """
        ).fetchall()
    assert correlation > 0.03, correlation


def test_scoring_a_model_trained_on_another_feature_schema_fails_clearly(trained: Trained):
    loaded = artifacts.load_model(trained.settings.models_dir, trained.result.version)
    with duckdb.connect(str(trained.settings.warehouse_path), read_only=True) as con:
        rows = con.sql(
            f"select * from {FEATURE_TABLE} where row_kind = 'scoring' limit 50"
        ).to_arrow_table()
    assert score_with_model(rows.to_batches(), loaded).num_rows > 0  # rate missing: null
    renamed = rows.rename_columns(
        ["n_contacts_renamed" if name == "n_contacts" else name for name in rows.column_names]
    )
    with pytest.raises(FeatureSchemaError, match=r"missing column 'n_contacts'.*cmart train"):
        score_with_model(renamed.to_batches(), loaded)
    retyped = rows.set_column(
        rows.column_names.index("age_years"),
        "age_years",
        rows.column("age_years").cast(pa.string()),
    )
    with pytest.raises(FeatureSchemaError, match="'age_years' is string, expected a number"):
        score_with_model(retyped.to_batches(), loaded)


def test_dbt_build_scores_with_the_active_model_arbitration_uses_it_and_decisions_are_measured(
    trained: Trained,
):
    settings, version = trained.settings, trained.result.version
    completed = run_dbt(
        settings, "build", "int_propensity_scored propensity_scores int_offer_candidates"
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    # arbitration's propensity is the model's score wherever the model scored the candidate
    [(n_scored, mismatches, n_unscored)] = query(
        settings,
        """
        select
            count(scores.score),
            count(*) filter (where scores.score is not null
                and candidates.propensity <> scores.score),
            count(*) filter (where scores.score is null and candidates.suppression_reason is null)
        from intermediate.int_offer_candidates as candidates
        left join decisioning.propensity_scores as scores
            on candidates.customer_id = scores.customer_id
            and candidates.product_id = scores.product_id
            and candidates.channel = scores.channel
        """,
    )
    assert n_scored > 1000 and mismatches == 0
    assert n_unscored == 0  # every candidate that passes the rules has a model score
    [(versions, n_rows, low, high)] = query(
        settings,
        "select list(distinct model_version), count(*), min(score), max(score) "
        "from decisioning.propensity_scores",
    )
    assert versions == [version] and n_rows > 1000 and 0 <= low < high <= 1
    report = decision_quality(settings.warehouse_path, settings.truth_dir, settings.run_date)
    policies = report["policies"]
    assert report["scored_by"] == [version]
    assert policies["oracle"]["value_vs_oracle"] == 1.0
    for name in ("nbo", "model", "segment_rate"):
        assert policies[name]["n_offers"] == policies["oracle"]["n_offers"] > 0
        assert 0.3 < policies[name]["value_vs_oracle"] <= 1.0, name


def test_shuffling_response_dates_after_the_contact_changes_no_feature(trained: Trained):
    settings = trained.settings
    cutoff = dt.datetime.combine(settings.run_date - dt.timedelta(days=35), dt.time())
    features = "select * exclude (is_hard_response) from " + FEATURE_TABLE
    before = query(settings, f"{features} order by feature_row_id")
    with duckdb.connect(str(settings.warehouse_path)) as con:
        # permute the dates of every response at or after the cutoff among themselves
        con.execute(
            """
            create temp table shuffled as
            with later as (
                select response_id, responded_at,
                    row_number() over (order by response_id) as by_id,
                    row_number() over (order by hash(response_id || 'shuffle')) as by_hash
                from campaign.fct_response where responded_at >= ?
            )
            select ids.response_id, dates.responded_at
            from later as ids inner join later as dates on ids.by_id = dates.by_hash
            """,
            [cutoff],
        )
        [(moved,)] = con.execute(
            "select count(*) from campaign.fct_response inner join shuffled using (response_id) "
            "where fct_response.responded_at <> shuffled.responded_at"
        ).fetchall()
        con.execute(
            "update campaign.fct_response set responded_at = shuffled.responded_at "
            "from shuffled where fct_response.response_id = shuffled.response_id"
        )
    assert moved > 100
    completed = run_dbt(settings, "run", "int_propensity_features_assembled")
    assert completed.returncode == 0, completed.stdout[-3000:]
    after = query(settings, f"{features} order by feature_row_id")
    as_of = [column for column, *_ in query(settings, f"describe ({features})")].index("as_of_at")
    assert len(before) == len(after)
    earlier = [(old, new) for old, new in zip(before, after, strict=True) if old[as_of] <= cutoff]
    assert len(earlier) > 1000
    assert [old for old, new in earlier if old != new] == []
    # the shuffle did reach the features of rows made after the cutoff
    assert any(old != new for old, new in zip(before, after, strict=True) if old[as_of] > cutoff)
