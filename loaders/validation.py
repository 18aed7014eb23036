"""Running the GX suites of a source on a file's header and on its typed chunks.

Importing this module imports Great Expectations (seconds): the loader imports it only when it
has files to validate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import great_expectations as gx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from great_expectations.core import ExpectationValidationResult
from great_expectations.data_context import EphemeralDataContext
from great_expectations.execution_engine import pandas_execution_engine

from expectations.checks import RowCheck, row_checks
from expectations.spec import EARLIEST_BOUND, LATEST_BOUND, SourceSpec
from expectations.suites import columns_suite, ephemeral_context, rows_suite
from loaders.reports import MAX_EXAMPLES, ExpectationResult

COMPLETE = {"result_format": "COMPLETE"}
FAILURES_SCHEMA = pa.schema([("_row", pa.int64()), ("check_number", pa.int32())])
# pandas holds datetimes as nanoseconds; values outside are clipped (bounds lie well inside).
NS_FLOOR = dt.datetime.combine(EARLIEST_BOUND, dt.time())
NS_CEILING = dt.datetime.combine(LATEST_BOUND, dt.time())


@contextmanager
def without_batch_fingerprint() -> Iterator[None]:
    """Skip GX's fingerprint of each pandas batch for the duration of one validation.

    GX md5-hashes every pandas batch under 1 GB (``pd.util.hash_pandas_object``) only to keep
    the hash as a batch marker, which nothing here reads; on string columns that is ~0.4 s per
    million values, most of the validation time of a chunk. GX has no switch for it, so its
    size threshold is set to 0 for one call and restored after.
    """
    previous = pandas_execution_engine.HASH_THRESHOLD
    pandas_execution_engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        pandas_execution_engine.HASH_THRESHOLD = previous


class ValidationError(RuntimeError):
    """An expectation could not be evaluated (a defect in the suite, not in the data)."""


@dataclass(frozen=True)
class ColumnsVerdict:
    missing: tuple[str, ...]
    result: ExpectationResult


@dataclass(frozen=True)
class RowsVerdict:
    results: list[ExpectationResult]
    failures: pa.Table  # (_row, check_number): one row per failed check per data row


def _example(value: Any) -> str:
    if value is None or (not isinstance(value, str | bytes) and pd.isna(value)):
        return "null"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    return str(value)


def _raise_on_exception(result: ExpectationValidationResult) -> None:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        config = result.expectation_config
        raise ValidationError(
            f"GX could not evaluate {config.type} on {config.kwargs.get('column')}: "
            f"{info.get('exception_message')}"
        )


def _to_result(result: ExpectationValidationResult) -> ExpectationResult:
    _raise_on_exception(result)
    details = result.result
    element_count = int(details.get("element_count", 0))
    missing_count = int(details.get("missing_count", 0) or 0)
    return ExpectationResult(
        expectation_type=result.expectation_config.type,
        column=result.expectation_config.kwargs.get("column"),
        success=bool(result.success),
        element_count=element_count,
        evaluated_count=element_count - missing_count,
        unexpected_count=int(details.get("unexpected_count", 0) or 0),
        examples=tuple(map(_example, details.get("partial_unexpected_list", [])[:MAX_EXAMPLES])),
    )


def _pandas_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dates and timestamps as nanosecond timestamps (GX compares those vectorised)."""
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        as_us = column.cast(pa.timestamp("us"))
        floor = pa.scalar(NS_FLOOR, pa.timestamp("us"))
        ceiling = pa.scalar(NS_CEILING, pa.timestamp("us"))
        raised = pc.max_element_wise(as_us, floor, skip_nulls=False)
        clipped = pc.min_element_wise(raised, ceiling, skip_nulls=False)
        return clipped.cast(pa.timestamp("ns"))
    return column


def checked_frame(typed: pa.Table, checks: list[RowCheck]) -> pd.DataFrame:
    """The typed columns the checks look at, as pandas (index = position in the chunk)."""
    names = list(dict.fromkeys(check.column.name for check in checks))
    columns = [_pandas_column(typed.column(name)) for name in names]
    return pa.table(columns, names=names).to_pandas()


class SourceValidator:
    """The suites of one source in a GX context, ready to validate headers and chunks."""

    def __init__(
        self,
        context: EphemeralDataContext,
        datasource: Any,
        spec: SourceSpec,
        config: Any,
        load_time: dt.datetime,
    ) -> None:
        self.spec = spec
        self.checks = row_checks(spec, config, load_time)
        asset = datasource.add_dataframe_asset(spec.source)
        batches = asset.add_batch_definition_whole_dataframe(f"{spec.source}.batch")
        definitions = context.validation_definitions
        self._columns = definitions.add(
            gx.ValidationDefinition(
                name=f"{spec.source}.columns",
                data=batches,
                suite=context.suites.add(columns_suite(spec)),
            )
        )
        self._rows = definitions.add(
            gx.ValidationDefinition(
                name=f"{spec.source}.rows",
                data=batches,
                suite=context.suites.add(rows_suite(spec.source, self.checks)),
            )
        )

    def check_columns(self, columns: list[str]) -> ColumnsVerdict:
        """Run the columns suite on the file's header."""
        frame = pd.DataFrame(columns=columns)
        run = self._columns.run(batch_parameters={"dataframe": frame}, result_format=COMPLETE)
        (result,) = run.results
        _raise_on_exception(result)
        mismatched = (result.result.get("details") or {}).get("mismatched") or {}
        reported = set(mismatched.get("missing") or ())
        missing = tuple(name for name in self.spec.required_columns if name in reported)
        verdict = ExpectationResult(
            expectation_type=result.expectation_config.type,
            column=None,
            success=bool(result.success),
            element_count=len(self.spec.required_columns),
            evaluated_count=len(self.spec.required_columns),
            unexpected_count=len(missing),
            examples=missing[:MAX_EXAMPLES],
        )
        return ColumnsVerdict(missing=missing, result=verdict)

    def check_rows(self, typed: pa.Table) -> RowsVerdict:
        """Run the rows suite on a typed chunk; map failing positions back to ``_row``."""
        if not self.checks:
            return RowsVerdict([], FAILURES_SCHEMA.empty_table())
        frame = checked_frame(typed, self.checks)
        with without_batch_fingerprint():
            run = self._rows.run(batch_parameters={"dataframe": frame}, result_format=COMPLETE)
        rows = typed.column("_row").to_numpy()
        results: list[ExpectationResult] = []
        row_parts: list[np.ndarray] = []
        check_parts: list[np.ndarray] = []
        ordered = sorted(run.results, key=lambda item: item.expectation_config.meta["check"])
        for result in ordered:
            summary = _to_result(result)
            results.append(summary)
            positions = np.asarray(result.result.get("unexpected_index_list") or [], dtype=np.int64)
            if positions.size != summary.unexpected_count:
                raise ValidationError(
                    f"GX listed {positions.size} of {summary.unexpected_count} failing rows "
                    f"for {summary.expectation_type} on {summary.column}"
                )
            if positions.size:
                row_parts.append(rows[positions])
                check = result.expectation_config.meta["check"]
                check_parts.append(np.full(positions.size, check, dtype=np.int32))
        failures = pa.table(
            [
                pa.array(np.concatenate(row_parts) if row_parts else [], pa.int64()),
                pa.array(np.concatenate(check_parts) if check_parts else [], pa.int32()),
            ],
            schema=FAILURES_SCHEMA,
        )
        return RowsVerdict(results, failures)


class LoadValidator:
    """One GX context per load call; one :class:`SourceValidator` per source, made on demand."""

    def __init__(self, config: Any, load_time: dt.datetime) -> None:
        self._config = config
        self._load_time = load_time
        self._context = ephemeral_context()
        self._datasource = self._context.data_sources.add_pandas("landing")
        self._sources: dict[str, SourceValidator] = {}

    def source(self, spec: SourceSpec) -> SourceValidator:
        if spec.source not in self._sources:
            self._sources[spec.source] = SourceValidator(
                self._context, self._datasource, spec, self._config, self._load_time
            )
        return self._sources[spec.source]
