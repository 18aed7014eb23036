"""Training on a small synthetic feature table: artifacts, activation, the activation gate,
and scoring's schema check (no dbt, no pipeline)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from cmart.config import load_config
from cmart.propensity import artifacts, train
from cmart.propensity.schema import FeatureSchemaError
from cmart.propensity.scoring import FALLBACK_VERSION, propensity_scores
from cmart.propensity.train import TrainingError, beats_baseline, train_model
from cmart.settings import DEFAULT_CONFIG_DIR

RUN_DATE = dt.date(2026, 11, 29)


def feature_rows(n: int, seed: int, signal: str) -> pa.Table:
    """Contact rows whose hard-response rate depends on a numeric feature (``signal`` =
    'score': the segment rate cannot see it) or on the segment alone ('segment')."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(["young", "family", "senior"], n)
    score = rng.random(n)
    if signal == "score":
        rate = 0.01 + 0.3 * (score > 0.8)
    else:
        rate = np.where(segment == "young", 0.25, 0.01)
    start = dt.datetime(2026, 9, 1)
    as_of = [start + dt.timedelta(hours=int(h)) for h in np.sort(rng.integers(0, 24 * 60, n))]
    return pa.table(
        {
            "feature_row_id": [f"CT{i:07d}" for i in range(n)],
            "row_kind": ["contact"] * n,
            "contact_id": [f"CT{i:07d}" for i in range(n)],
            "customer_id": [f"C{i % 900:05d}" for i in range(n)],
            "product_id": rng.choice(["loan", "card"], n),
            "channel": rng.choice(["email", "sms"], n),
            "candidate_channels": pa.nulls(n, pa.string()),
            "campaign_id": ["CMP1"] * n,
            "is_control": rng.random(n) < 0.1,
            "is_validation": np.arange(n) >= int(n * 0.7),
            "is_hard_response": (rng.random(n) < rate).astype(np.int32),
            "segment_code": segment,
            "score_signal": score,
            "n_contacts": rng.integers(0, 5, n),
            "as_of_at": pa.array(as_of, pa.timestamp("us")),
        }
    )


def warehouse_with(path: Path, table: pa.Table) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema intermediate")
        con.register("rows", table)
        con.execute("create table intermediate.int_propensity_features_assembled as from rows")
    return path


def test_training_writes_artifacts_and_activates_a_model_that_finds_the_signal(tmp_path):
    warehouse = warehouse_with(tmp_path / "w.duckdb", feature_rows(6000, 1, "score"))
    config = load_config([DEFAULT_CONFIG_DIR])
    result = train_model(warehouse, tmp_path / "models", config, run_date=RUN_DATE)
    assert artifacts.active_version(tmp_path / "models") == result.version
    metrics = result.metrics
    assert metrics["activated"] is True
    assert metrics["model"]["auc"] > metrics["segment_rate_baseline"]["auc"] + 0.1
    assert metrics["model"]["lift_top_decile"] > 2
    assert "score_signal" in metrics["features"] and "is_hard_response" not in metrics["features"]


def test_beats_baseline_needs_a_strictly_higher_validation_auc():
    def evaluation(model: float | None, baseline: float | None) -> dict:
        return {"model": {"auc": model}, "segment_rate_baseline": {"auc": baseline}}

    assert beats_baseline(evaluation(0.70, 0.68))
    assert not beats_baseline(evaluation(0.68, 0.68))
    assert not beats_baseline(evaluation(0.60, 0.68))
    assert not beats_baseline(evaluation(None, 0.68))


def test_activation_gate_keeps_the_previous_version_unless_the_new_one_is_better(
    tmp_path, monkeypatch
):
    models = tmp_path / "models"
    config = load_config([DEFAULT_CONFIG_DIR])
    gated = config.model_copy(
        update={
            "propensity": config.propensity.model_copy(update={"activate_only_if_better": True})
        }
    )
    warehouse = warehouse_with(tmp_path / "a.duckdb", feature_rows(6000, 2, "score"))
    first = train_model(warehouse, models, gated, run_date=RUN_DATE)
    assert first.metrics["activated"] and artifacts.active_version(models) == first.version
    monkeypatch.setattr(train, "beats_baseline", lambda evaluation: False)
    second = train_model(warehouse, models, gated, run_date=RUN_DATE)
    assert second.metrics["activated"] is False
    assert artifacts.active_version(models) == first.version
    assert (models / second.version / artifacts.MODEL_FILE).exists()


def test_too_few_labelled_contacts_refuse_to_train(tmp_path):
    warehouse = warehouse_with(tmp_path / "w.duckdb", feature_rows(300, 4, "score"))
    with pytest.raises(TrainingError, match="too few labelled training contacts"):
        train_model(
            warehouse, tmp_path / "models", load_config([DEFAULT_CONFIG_DIR]), run_date=RUN_DATE
        )


def test_scoring_uses_the_active_model_or_falls_back_and_checks_the_schema(tmp_path):
    rows = feature_rows(6000, 5, "score")
    models = tmp_path / "models"
    scoring = rows.slice(0, 10).set_column(
        rows.column_names.index("candidate_channels"),
        "candidate_channels",
        pa.array(["email|sms"] * 10),
    )
    estimated = pa.table(
        {
            "segment_code": ["young"],
            "product_id": ["loan"],
            "channel": ["email"],
            "propensity": [0.2],
            "overall_hard_rate": [0.05],
        }
    )
    fallback = propensity_scores(scoring.to_batches(), estimated, models)
    assert fallback.num_rows == 20
    assert set(fallback.column("model_version").to_pylist()) == {FALLBACK_VERSION}
    assert set(fallback.column("score").to_pylist()) <= {0.2, 0.05}
    result = train_model(
        warehouse_with(tmp_path / "w.duckdb", rows),
        models,
        load_config([DEFAULT_CONFIG_DIR]),
        run_date=RUN_DATE,
    )
    scored = propensity_scores(scoring.to_batches(), estimated, models)
    assert set(scored.column("model_version").to_pylist()) == {result.version}
    assert scored.column("channel").to_pylist()[:2] == ["email", "sms"]
    with pytest.raises(FeatureSchemaError, match="'score_signal'"):
        propensity_scores(scoring.drop_columns(["score_signal"]).to_batches(), estimated, models)
