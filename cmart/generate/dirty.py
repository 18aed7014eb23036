"""Dirty data: corrupt a share of every source's rows with the faults real feeds have.

Faults: a missing key (null), an unknown code (channel ``fax``, response type ``maybe``, ...), an
unparseable or out-of-range date (text sources only: typed Parquet columns cannot hold one), a
negative value, and exact duplicate rows (appended). Every corrupted row is recorded for the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmart.generate.frame import rng_for
from cmart.generate.vocab import BAD_CODES, BAD_DATES, BAD_TIMESTAMPS

FAULTS = ("missing_key", "unknown_code", "bad_date", "negative_value", "duplicate")


@dataclass(frozen=True)
class FaultSpec:
    keys: tuple[str, ...]  # required, not-null columns a fault may empty
    codes: tuple[str, ...] = ()  # columns with a fixed set of codes
    dates: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()  # columns that must be >= 0


SPECS: dict[str, FaultSpec] = {
    "customers": FaultSpec(
        ("customer_id", "national_id"), ("gender",), ("birth_date",), ("updated_at",)
    ),
    "crm_customers": FaultSpec(("crm_id",), timestamps=("updated_at",)),
    "products": FaultSpec(("product_id", "category"), ("tier",), numbers=("value",)),
    "holdings": FaultSpec(("customer_id", "product_id"), ("status",), timestamps=("opened_at",)),
    "campaigns": FaultSpec(("campaign_id",), dates=("start_date", "end_date")),
    "offers": FaultSpec(
        ("offer_id", "product_id"),
        ("channels",),
        ("valid_from", "valid_to"),
        numbers=("control_rate",),
    ),
    "contacts": FaultSpec(
        ("contact_id", "customer_id"), ("channel",), timestamps=("contacted_at",)
    ),
    "responses": FaultSpec(
        ("response_id", "customer_id"),
        ("channel", "response_type"),
        timestamps=("responded_at",),
    ),
    "consents": FaultSpec(("customer_id",), ("channel", "status"), timestamps=("recorded_at",)),
    "preferences": FaultSpec(("customer_id",), ("key", "value"), timestamps=("recorded_at",)),
    "complaints": FaultSpec(("complaint_id", "customer_id"), timestamps=("opened_at", "closed_at")),
    "life_events": FaultSpec(("customer_id", "event_type"), dates=("event_date",)),
    "scores": FaultSpec(("customer_id", "score_name"), timestamps=("scored_at",)),
    "branches": FaultSpec(("branch_id",), ("branch_type",)),
    "reps": FaultSpec(("rep_id", "branch_id")),
}


def _as_plain(column: pa.ChunkedArray) -> pa.Array:
    array = column.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    return array


@dataclass
class Dirt:
    """Corrupts tables at ``rate`` and remembers what it did (``records``)."""

    seed: int
    rate: float
    records: list[pa.Table] = field(default_factory=list)

    def _columns_by_fault(self, spec: FaultSpec, text: bool) -> dict[str, tuple[str, ...]]:
        candidates = {
            "missing_key": spec.keys,
            "unknown_code": spec.codes,
            "bad_date": (spec.dates + spec.timestamps) if text else (),
            "negative_value": spec.numbers,
            "duplicate": ("*",),
        }
        return {fault: columns for fault, columns in candidates.items() if columns}

    def apply(self, source: str, file_name: str, table: pa.Table, text: bool) -> pa.Table:
        """``table`` with a share ``rate`` of its rows corrupted; when ``rate`` > 0 every fault kind
        that applies to the source occurs at least once. A table too small for that (a catalogue
        of a dozen offers) gets the missing fault kinds on appended corrupted *copies* of its rows,
        so that dirt never wipes out a large share of a small reference table."""
        if self.rate <= 0 or table.num_rows == 0:
            return table
        rng = rng_for(self.seed, f"dirty/{source}/{file_name}")
        spec = SPECS[source]
        original_size = table.num_rows
        by_fault = self._columns_by_fault(spec, text)
        faults = list(by_fault)
        # A share ``rate`` of the rows, then copies until every fault kind occurs at least once.
        n_in_place = min(original_size, round(self.rate * original_size))
        n_copies = max(0, len(faults) - n_in_place)
        in_place = np.sort(rng.choice(original_size, n_in_place, replace=False))
        if n_copies:
            table = pa.concat_tables(
                [table, table.take(pa.array(rng.integers(0, original_size, n_copies)))]
            )
        size = table.num_rows
        rows = np.concatenate([in_place, original_size + np.arange(n_copies)]).astype(np.int64)
        n_bad = len(rows)
        fault_of_row = rng.permutation(np.arange(n_bad) % len(faults))
        column_of_row = rng.integers(0, 1 << 30, n_bad)
        log_rows, log_faults, log_columns = [], [], []
        columns = dict(zip(table.column_names, table.columns, strict=True))
        duplicates = np.zeros(0, dtype=np.int64)
        for fault_index, fault in enumerate(faults):
            chosen = rows[fault_of_row == fault_index]
            if fault == "duplicate":
                duplicates = chosen
                continue
            names = by_fault[fault]
            which = column_of_row[fault_of_row == fault_index] % len(names)
            for name_index, name in enumerate(names):
                hit = chosen[which == name_index]
                if len(hit) == 0:
                    continue
                columns[name] = self._corrupt(rng, fault, name, spec, _as_plain(columns[name]), hit)
                log_rows.append(hit)
                log_faults.append(np.full(len(hit), FAULTS.index(fault), dtype=np.int8))
                log_columns.append(np.full(len(hit), name, dtype=object))
        out = pa.table(columns)
        if len(duplicates):
            out = pa.concat_tables([out, out.take(pa.array(duplicates))])
            log_rows.append(size + np.arange(len(duplicates)))
            log_faults.append(np.full(len(duplicates), FAULTS.index("duplicate"), dtype=np.int8))
            log_columns.append(np.full(len(duplicates), None, dtype=object))
        self._record(source, file_name, log_rows, log_faults, log_columns)
        return out

    @staticmethod
    def _corrupt(
        rng: np.random.Generator,
        fault: str,
        name: str,
        spec: FaultSpec,
        column: pa.Array,
        hit: np.ndarray,
    ) -> pa.Array:
        mask = np.zeros(len(column), dtype=bool)
        mask[hit] = True
        if fault == "missing_key":
            return pc.if_else(pa.array(mask), pa.scalar(None, column.type), column)
        if fault == "unknown_code":
            bad = BAD_CODES.get(name, f"unknown_{name}")
            return pc.if_else(pa.array(mask), pa.scalar(bad, column.type), column)
        if fault == "bad_date":
            choices = BAD_DATES if name in spec.dates else BAD_TIMESTAMPS
            picked = pa.array([choices[i] for i in rng.integers(0, len(choices), len(hit))])
            return pc.replace_with_mask(column.cast(pa.string()), pa.array(mask), picked)
        if fault == "negative_value":
            values = pc.subtract(pc.negate(pc.abs(column.filter(pa.array(mask)))), 1.0)
            return pc.replace_with_mask(column, pa.array(mask), values.cast(column.type))
        raise ValueError(f"unknown fault {fault!r}")

    def _record(
        self,
        source: str,
        file_name: str,
        rows: list[np.ndarray],
        faults: list[np.ndarray],
        columns: list[np.ndarray],
    ) -> None:
        if not rows:
            return
        row = np.concatenate(rows)
        order = np.argsort(row, kind="stable")
        size = len(row)
        self.records.append(
            pa.table(
                {
                    "source": pa.array([source] * size, pa.string()),
                    "file": pa.array([file_name] * size, pa.string()),
                    "row_number": pa.array(row[order] + 1, pa.int64()),
                    "fault": pa.array(
                        np.array(FAULTS, dtype=object)[np.concatenate(faults)[order]]
                    ),
                    "column": pa.array(np.concatenate(columns)[order], pa.string()),
                }
            )
        )

    def truth(self) -> pa.Table | None:
        return pa.concat_tables(self.records) if self.records else None
