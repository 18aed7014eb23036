"""The feature schema: which columns of int_propensity_features_assembled are features, their
kinds, and the categorical vocabularies learned at training time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FEATURE_TABLE = "intermediate.int_propensity_features_assembled"
# Identity, label and bookkeeping columns of the feature table: never model inputs.
NON_FEATURE_COLUMNS = (
    "feature_row_id",
    "row_kind",
    "contact_id",
    "customer_id",
    "candidate_channels",
    "offer_id",
    "campaign_id",
    "cell",
    "is_control",
    "is_validation",
    "is_hard_response",
    "as_of_at",
)
LABEL = "is_hard_response"
# A feature the model gets beside the table's columns: the smoothed segment x product x channel
# hard rate (int_propensity_estimated at scoring), the prior the trees refine per customer. The
# model sees its keys only through it (monotone increasing): a segment x channel effect is what
# the smoothed rate estimates best, cell by cell, so the model's channel choice follows it.
SEGMENT_RATE = "segment_rate"
SEGMENT_RATE_KEYS = ("segment_code", "product_id", "channel")


class FeatureSchemaError(ValueError):
    """The feature table does not match what a model was trained on."""


@dataclass(frozen=True)
class FeatureSchema:
    """Feature names in model order; categorical ones carry their training vocabulary."""

    numeric: tuple[str, ...]
    categorical: dict[str, tuple[str, ...]]

    @property
    def names(self) -> list[str]:
        return [*self.categorical, *self.numeric]

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([name in self.categorical for name in self.names])

    def to_json(self) -> dict[str, object]:
        return {
            "numeric": list(self.numeric),
            "categorical": {name: list(values) for name, values in self.categorical.items()},
        }

    @classmethod
    def from_json(cls, document: dict[str, object]) -> FeatureSchema:
        numeric = document["numeric"]
        categorical = document["categorical"]
        assert isinstance(numeric, list) and isinstance(categorical, dict)
        return cls(
            numeric=tuple(numeric),
            categorical={name: tuple(values) for name, values in categorical.items()},
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> FeatureSchema:
        return cls.from_json(json.loads(path.read_text()))

    # --- the feature table -------------------------------------------------------------------

    @classmethod
    def infer(cls, table: pa.Table, max_categories: int = 250) -> FeatureSchema:
        """Features of a training table: strings are categorical (most frequent values first,
        at most ``max_categories``), everything else numeric."""
        numeric: list[str] = []
        categorical: dict[str, tuple[str, ...]] = {}
        for field in table.schema:
            if field.name in NON_FEATURE_COLUMNS or field.name in SEGMENT_RATE_KEYS:
                continue
            if _is_text(field.type):
                counts = pc.value_counts(pc.drop_null(table.column(field.name)))
                ranked = sorted(
                    ((int(n), str(v)) for v, n in zip(*counts.flatten(), strict=True)),
                    key=lambda item: (-item[0], item[1]),
                )
                categorical[field.name] = tuple(v for _, v in ranked[:max_categories])
            elif pa.types.is_boolean(field.type) or _is_number(field.type):
                numeric.append(field.name)
        return cls(numeric=tuple(numeric), categorical=categorical)

    def check(self, schema: pa.Schema, *, model: str = "the model") -> None:
        """Raise :class:`FeatureSchemaError` naming the difference when ``schema`` (the
        current feature table) lacks a feature or types it differently."""
        problems: list[str] = []
        for name in self.names:
            if name not in schema.names:
                problems.append(f"missing column {name!r}")
                continue
            kind = schema.field(name).type
            if name in self.categorical:
                fits, expected = _is_text(kind), "text"
            else:
                fits, expected = pa.types.is_boolean(kind) or _is_number(kind), "a number"
            if not fits:
                problems.append(f"column {name!r} is {kind}, expected {expected}")
        extra = [
            name
            for name in schema.names
            if name not in NON_FEATURE_COLUMNS
            and name not in SEGMENT_RATE_KEYS
            and name not in self.names
        ]
        if extra:
            problems.append(f"new column(s) the model does not know: {extra}")
        if problems:
            raise FeatureSchemaError(
                f"{model} does not match the current feature table {FEATURE_TABLE}: "
                + "; ".join(problems)
                + ". Retrain (`cmart train`) or activate a matching model version "
                "in <data-dir>/models/active.json."
            )

    def matrix(self, table: pa.Table) -> np.ndarray:
        """The model input: one float column per feature; categories as their vocabulary
        index (unknown or null -> NaN, which the booster treats as missing)."""
        columns = []
        for name in self.names:
            column = table.column(name)
            if name in self.categorical:
                vocabulary = pa.array(self.categorical[name], pa.string())
                codes = pc.index_in(column.cast(pa.string()), value_set=vocabulary)
                columns.append(codes.to_numpy(zero_copy_only=False).astype(np.float64))
            else:
                values = column.cast(pa.float64())
                columns.append(values.to_numpy(zero_copy_only=False).astype(np.float64))
        if not columns:
            return np.zeros((table.num_rows, 0))
        return np.column_stack(columns)


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
