"""Great Expectations suites for one load of a source.

Two suites per source:

- ``<source>.columns`` runs on the file's header (an empty frame with the file's columns):
  the required columns must be there, else the whole file is rejected;
- ``<source>.rows`` runs on each typed batch: not-null, in-set, pipe-list-in-set and range
  expectations (:mod:`expectations.checks`) whose failing rows are quarantined.

GX builds suites against its active context: create one with :func:`ephemeral_context` first.
Importing this module imports GX (seconds): the loader imports it only when it has files to
validate.
"""

from __future__ import annotations

from collections.abc import Sequence

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.data_context import EphemeralDataContext
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from expectations.checks import RowCheck, pipe_list_regex
from expectations.spec import SourceSpec


def expectation_for(check: RowCheck, number: int) -> gxe.Expectation:
    """The GX expectation of a check; ``meta.check`` carries ``number`` back in its result."""
    meta = {"check": number}
    name = check.column.name
    if check.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=name, meta=meta)
    if check.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=name, value_set=list(check.values), meta=meta)
    if check.kind == "pipe_list_in_set":
        regex = pipe_list_regex(check.values)
        return gxe.ExpectColumnValuesToMatchRegex(column=name, regex=regex, meta=meta)
    return gxe.ExpectColumnValuesToBeBetween(
        column=name, min_value=check.min, max_value=check.max, meta=meta
    )


def columns_suite(spec: SourceSpec) -> gx.ExpectationSuite:
    """Suite for a file's header: every required column is present (extra ones are fine)."""
    suite = gx.ExpectationSuite(name=f"{spec.source}.columns")
    suite.add_expectation(
        gxe.ExpectTableColumnsToMatchSet(column_set=list(spec.required_columns), exact_match=False)
    )
    return suite


def rows_suite(source: str, checks: Sequence[RowCheck]) -> gx.ExpectationSuite:
    """Suite for typed batches: one expectation per check, numbered in ``meta.check``."""
    suite = gx.ExpectationSuite(name=f"{source}.rows")
    for number, check in enumerate(checks):
        suite.add_expectation(expectation_for(check, number))
    return suite


def ephemeral_context() -> EphemeralDataContext:
    """An in-memory GX context: no files, no analytics, no progress bars."""
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")
