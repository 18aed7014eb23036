"""Bulk scoring of the feature table's scoring rows (customer x product) on every candidate
channel, with the active model or, when none is active, the segment rate."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmart.propensity import artifacts
from cmart.propensity.artifacts import LoadedModel
from cmart.propensity.schema import SEGMENT_RATE

FALLBACK_VERSION = "segment_rate"
SCORE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("product_id", pa.string()),
        ("channel", pa.string()),
        ("score", pa.float64()),
        ("model_version", pa.string()),
    ]
)
FALLBACK_KEYS = ["segment_code", "product_id", "channel"]


def by_channel(rows: pa.Table) -> pa.Table:
    """One row per scoring row and candidate channel (the pipe list candidate_channels)."""
    lists = pc.split_pattern(rows.column("candidate_channels"), "|")
    parents = pc.list_parent_indices(lists)
    expanded = rows.take(parents).drop_columns(["channel"])
    return expanded.append_column("channel", pc.list_flatten(lists).cast(pa.string()))


def _scores_table(rows: pa.Table, scores: pa.Array | np.ndarray, version: str) -> pa.Table:
    return pa.table(
        {
            "customer_id": rows.column("customer_id").cast(pa.string()),
            "product_id": rows.column("product_id").cast(pa.string()),
            "channel": rows.column("channel").cast(pa.string()),
            "score": pa.array(scores, pa.float64()),
            "model_version": pa.array([version] * rows.num_rows, pa.string()),
        },
        schema=SCORE_SCHEMA,
    )


def with_segment_rate(rows: pa.Table, estimated: pa.Table | None) -> pa.Table:
    """``rows`` (one per channel) plus SEGMENT_RATE from int_propensity_estimated (the overall
    rate where the segment has none), in the rows' order."""
    if estimated is None or estimated.num_rows == 0:
        rate = pa.nulls(rows.num_rows, pa.float64())
    else:
        overall = pc.max(estimated.column("overall_hard_rate")).as_py() or 0.0
        keys = rows.select(FALLBACK_KEYS).append_column(
            "row_number", pa.array(np.arange(rows.num_rows))
        )
        joined = keys.join(
            estimated.select([*FALLBACK_KEYS, "propensity"]),
            keys=FALLBACK_KEYS,
            join_type="left outer",
        ).sort_by("row_number")
        rate = pc.fill_null(joined.column("propensity"), overall).cast(pa.float64())
    return rows.append_column(SEGMENT_RATE, rate)


def score_with_model(
    batches: Iterable[pa.RecordBatch], loaded: LoadedModel, estimated: pa.Table | None = None
) -> pa.Table:
    """Score every batch of scoring rows with the model, after checking the schema; a model
    that uses SEGMENT_RATE gets it from ``estimated`` (int_propensity_estimated)."""
    parts = [SCORE_SCHEMA.empty_table()]
    checked = False
    uses_rate = SEGMENT_RATE in loaded.schema.names
    for batch in batches:
        rows = pa.Table.from_batches([batch])
        expanded = by_channel(rows)
        if uses_rate:
            rows = rows.append_column(SEGMENT_RATE, pa.nulls(rows.num_rows, pa.float64()))
            expanded = with_segment_rate(expanded, estimated)
        if not checked:
            loaded.schema.check(rows.schema, model=f"propensity model {loaded.version}")
            checked = True
        if expanded.num_rows == 0:
            continue
        scores = loaded.model.predict_proba(loaded.schema.matrix(expanded))[:, 1]
        parts.append(_scores_table(expanded, scores, loaded.version))
    return pa.concat_tables(parts)


def score_with_segment_rate(batches: Iterable[pa.RecordBatch], estimated: pa.Table) -> pa.Table:
    """The fallback: int_propensity_estimated's smoothed rate per segment x product x
    channel (the overall rate where the segment has none)."""
    overall = pc.max(estimated.column("overall_hard_rate")).as_py() or 0.0
    rates = estimated.select([*FALLBACK_KEYS, "propensity"])
    parts = [SCORE_SCHEMA.empty_table()]
    for batch in batches:
        rows = by_channel(pa.Table.from_batches([batch])).select(["customer_id", *FALLBACK_KEYS])
        if rows.num_rows == 0:
            continue
        joined = rows.join(rates, keys=FALLBACK_KEYS, join_type="left outer")
        scores = pc.fill_null(joined.column("propensity"), overall)
        parts.append(_scores_table(joined, scores.combine_chunks(), FALLBACK_VERSION))
    return pa.concat_tables(parts)


def propensity_scores(
    batches: Iterable[pa.RecordBatch], estimated: pa.Table, models_dir: str | Path | None
) -> pa.Table:
    """Scores of every (customer, product, candidate channel): the active model's in
    ``models_dir`` (``active.json``), else the segment-rate fallback."""
    version = artifacts.active_version(Path(models_dir)) if models_dir else None
    if version is None:
        return score_with_segment_rate(batches, estimated)
    loaded = artifacts.load_model(Path(models_dir), version)  # type: ignore[arg-type]
    return score_with_model(batches, loaded, estimated)
