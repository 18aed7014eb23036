"""Model quality on a labelled validation set: AUC, lift at the top decile, calibration, the
segment-rate baseline, and uplift by score decile from the control groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

BASELINE_KEYS = ["segment_code", "product_id", "channel"]


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve, or None when only one class is present."""
    if len(np.unique(labels)) < 2:
        return None
    return float(roc_auc_score(labels, scores))


def lift_at(labels: np.ndarray, scores: np.ndarray, share: float = 0.1) -> float | None:
    """Response rate of the top ``share`` by score divided by the overall rate (ties broken
    by position, so that a constant score gives lift 1 on average)."""
    if len(labels) == 0 or labels.mean() == 0:
        return None
    top = max(1, round(len(labels) * share))
    order = np.lexsort((np.arange(len(scores)), -scores))
    return float(labels[order[:top]].mean() / labels.mean())


def deciles(scores: np.ndarray) -> np.ndarray:
    """Decile 1 (highest scores) .. 10 (lowest), equal-sized, ties by position."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(len(scores))
    return (ranks * 10 // max(len(scores), 1)) + 1


def calibration(labels: np.ndarray, scores: np.ndarray) -> list[dict[str, float]]:
    """Mean predicted vs observed rate per score decile (1 = highest scores)."""
    frame = pd.DataFrame({"decile": deciles(scores), "label": labels, "score": scores})
    grouped = frame.groupby("decile").agg(
        n=("label", "size"), observed=("label", "mean"), predicted=("score", "mean")
    )
    return [
        {
            "decile": int(decile),
            "n": int(row.n),
            "predicted": round(float(row.predicted), 6),
            "observed": round(float(row.observed), 6),
        }
        for decile, row in grouped.iterrows()
    ]


def segment_rate_baseline(
    train: pd.DataFrame, target: pd.DataFrame, prior_contacts: float
) -> np.ndarray:
    """The default propensity (int_propensity_estimated) learned on ``train`` and applied to
    ``target``: the hard rate per segment x product x channel, smoothed towards the overall
    rate with ``prior_contacts`` pseudo-contacts."""
    overall = float(train["is_hard_response"].mean()) if len(train) else 0.0
    grouped = (
        train.groupby(BASELINE_KEYS, dropna=False)["is_hard_response"]
        .agg(["size", "sum"])
        .reset_index()
    )
    grouped["rate"] = (grouped["sum"] + prior_contacts * overall) / (
        grouped["size"] + prior_contacts
    ).clip(lower=1e-9)
    joined = target[BASELINE_KEYS].merge(grouped, on=BASELINE_KEYS, how="left")
    return joined["rate"].fillna(overall).to_numpy()


def quality(labels: np.ndarray, scores: np.ndarray) -> dict[str, object]:
    return {
        "auc": _round(auc(labels, scores)),
        "lift_top_decile": _round(lift_at(labels, scores, 0.1)),
        "calibration": calibration(labels, scores),
    }


def uplift_by_decile(contacts: pd.DataFrame) -> list[dict[str, object]]:
    """Per campaign and model-score decile (deciles over treated and control contacts of the
    campaign together): hard rate of treated vs control contacts and their difference, the
    incremental lift. ``contacts`` has campaign_id, is_control, is_hard_response, score."""
    rows: list[dict[str, object]] = []
    for campaign_id, group in contacts.groupby("campaign_id", sort=True):
        if group["is_control"].sum() == 0 or (~group["is_control"]).sum() == 0:
            continue
        frame = group.assign(decile=deciles(group["score"].to_numpy()))
        for decile, cell in frame.groupby("decile", sort=True):
            treated = cell[~cell["is_control"]]
            control = cell[cell["is_control"]]
            treated_rate = float(treated["is_hard_response"].mean()) if len(treated) else None
            control_rate = float(control["is_hard_response"].mean()) if len(control) else None
            uplift = (
                treated_rate - control_rate
                if treated_rate is not None and control_rate is not None
                else None
            )
            rows.append(
                {
                    "campaign_id": str(campaign_id),
                    "decile": int(decile),
                    "n_treated": len(treated),
                    "n_control": len(control),
                    "treated_hard_rate": _round(treated_rate),
                    "control_hard_rate": _round(control_rate),
                    "uplift": _round(uplift),
                }
            )
    return rows


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)
