"""Train the propensity model on the warehouse's labelled contacts (treated only) with a
time-based split: the latest ``validation_days`` contact days validate, the rest train; the
saved model is then refitted on both with the iterations early stopping chose."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.ensemble import HistGradientBoostingClassifier

from cmart.config import CampaignConfig, PropensitySettings
from cmart.propensity import artifacts, metrics
from cmart.propensity.schema import FEATURE_TABLE, LABEL, SEGMENT_RATE, FeatureSchema

FRAME_COLUMNS = ["segment_code", "product_id", "channel", "campaign_id", LABEL, "is_control"]


class TrainingError(RuntimeError):
    """Training cannot run on this warehouse (no feature table, too few labelled contacts)."""


@dataclass(frozen=True)
class TrainResult:
    version: str
    model_dir: Path
    metrics: dict[str, Any]
    seconds: float


def read_contact_rows(warehouse_path: Path) -> pa.Table:
    """The labelled contact rows of the feature table (treated and control)."""
    if not warehouse_path.exists():
        raise TrainingError(f"no warehouse at {warehouse_path}: run `cmart run` first")
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        try:
            return con.sql(
                f"select * from {FEATURE_TABLE} where row_kind = 'contact' order by contact_id"
            ).to_arrow_table()
        except duckdb.CatalogException as error:
            raise TrainingError(
                f"{FEATURE_TABLE} is missing from {warehouse_path}: run `cmart run` first"
            ) from error


def _booster(settings: PropensitySettings, schema: FeatureSchema, **overrides: Any):
    options: dict[str, Any] = {
        "max_iter": settings.max_iter,
        "learning_rate": settings.learning_rate,
        "max_leaf_nodes": settings.max_leaf_nodes,
        "min_samples_leaf": settings.min_samples_leaf,
        "l2_regularization": settings.l2_regularization,
        "categorical_features": schema.categorical_mask,
        # more segment-rate prior, never a lower score (docs/propensity.md)
        "monotonic_cst": [1 if name == SEGMENT_RATE else 0 for name in schema.names],
        "early_stopping": True,
        "validation_fraction": 0.1,
        "n_iter_no_change": 20,
        "random_state": 0,
    }
    options.update(overrides)
    return HistGradientBoostingClassifier(**options)


def _window(table: pa.Table) -> dict[str, str | None]:
    if table.num_rows == 0:
        return {"from": None, "to": None}
    low, high = pc.min_max(table.column("as_of_at")).values()
    return {"from": str(low.as_py()), "to": str(high.as_py())}


def _frame(table: pa.Table) -> pd.DataFrame:
    return table.select(FRAME_COLUMNS).to_pandas()


def with_segment_rate(rows: pa.Table, learned_on: pa.Table, prior_contacts: float) -> pa.Table:
    """``rows`` plus the feature SEGMENT_RATE: the segment-rate baseline learned on
    ``learned_on`` (the training split for training and validation rows, so validation stays
    unseen). Scoring takes it from int_propensity_estimated, the same rate on all contacts."""
    rate = metrics.segment_rate_baseline(_frame(learned_on), _frame(rows), prior_contacts)
    return rows.append_column(SEGMENT_RATE, pa.array(rate, pa.float64()))


def _check_size(train: pa.Table, settings: PropensitySettings) -> None:
    positives = int(pc.sum(train.column(LABEL)).as_py() or 0)
    if train.num_rows < settings.min_training_rows or positives < 10:
        raise TrainingError(
            f"too few labelled training contacts: {train.num_rows:,} rows, {positives:,} "
            f"hard responses (need propensity.min_training_rows = "
            f"{settings.min_training_rows:,} rows and 10 hard responses)"
        )


def evaluate_split(
    model: Any,
    schema: FeatureSchema,
    train: pa.Table,
    validation: pa.Table,
    controls: pa.Table,
    prior_contacts: float,
) -> dict[str, Any]:
    """Validation metrics of the model and of the segment-rate baseline, and uplift."""
    labels = validation.column(LABEL).to_numpy(zero_copy_only=False).astype(np.int64)
    scores = model.predict_proba(schema.matrix(validation))[:, 1]
    baseline = metrics.segment_rate_baseline(_frame(train), _frame(validation), prior_contacts)
    uplift_rows = pa.concat_tables([validation, controls])
    uplift_frame = _frame(uplift_rows).assign(
        score=model.predict_proba(schema.matrix(uplift_rows))[:, 1] if uplift_rows.num_rows else []
    )
    return {
        "model": metrics.quality(labels, scores),
        "segment_rate_baseline": metrics.quality(labels, baseline),
        "uplift_by_decile": metrics.uplift_by_decile(uplift_frame),
    }


def train_model(
    warehouse_path: Path,
    models_dir: Path,
    config: CampaignConfig,
    *,
    run_date: dt.date,
    activate: bool = True,
) -> TrainResult:
    started = time.perf_counter()
    settings = config.propensity
    rows = read_contact_rows(warehouse_path)
    read_at = time.perf_counter()
    treated = rows.filter(pc.invert(rows.column("is_control")))
    is_validation = treated.column("is_validation")
    train = treated.filter(pc.invert(is_validation))
    validation = treated.filter(is_validation)
    controls = rows.filter(pc.and_(rows.column("is_control"), rows.column("is_validation")))
    _check_size(train, settings)
    prior = config.decisioning.propensity_prior_contacts
    train, validation, controls = (
        with_segment_rate(part, train, prior) for part in (train, validation, controls)
    )
    treated = with_segment_rate(treated, treated, prior)
    schema = FeatureSchema.infer(train)
    labels = train.column(LABEL).to_numpy(zero_copy_only=False).astype(np.int64)
    model = _booster(settings, schema).fit(schema.matrix(train), labels)
    fitted_at = time.perf_counter()
    evaluation = evaluate_split(model, schema, train, validation, controls, prior)
    everything = treated.column(LABEL).to_numpy(zero_copy_only=False).astype(np.int64)
    final = _booster(settings, schema, max_iter=max(int(model.n_iter_), 1), early_stopping=False)
    final.fit(schema.matrix(treated), everything)
    version = artifacts.new_version(models_dir)
    document = {
        "version": version,
        "run_date": run_date.isoformat(),
        "trained_at": dt.datetime.now(dt.UTC).isoformat(),
        "training_window": _window(train),
        "validation_window": _window(validation),
        "n_train": train.num_rows,
        "n_validation": validation.num_rows,
        "n_control_validation": controls.num_rows,
        "train_hard_rate": round(float(labels.mean()), 6),
        "n_iterations": int(model.n_iter_),
        "n_features": len(schema.names),
        "features": schema.names,
        "read_seconds": round(read_at - started, 1),
        "fit_seconds": round(fitted_at - read_at, 1),
        "settings": settings.model_dump(),
        **evaluation,
    }
    document["activated"] = activate and (
        not settings.activate_only_if_better or beats_baseline(evaluation)
    )
    model_dir = artifacts.save_model(models_dir, version, final, schema, document)
    if document["activated"]:
        artifacts.activate(models_dir, version)
    return TrainResult(version, model_dir, document, time.perf_counter() - started)


def beats_baseline(evaluation: dict[str, Any]) -> bool:
    """The model's validation AUC is strictly above the segment-rate baseline's."""
    model = evaluation["model"]["auc"]
    baseline = evaluation["segment_rate_baseline"]["auc"]
    return model is not None and (baseline is None or model > baseline)
