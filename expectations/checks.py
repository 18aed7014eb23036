"""Row-level checks of a source spec, resolved for one load (no Great Expectations here).

``config:<table>.<column>`` value sets are resolved against the CRM configuration and
``today``/``now`` bounds against the load time, allowing one day of clock skew.
:mod:`expectations.suites` turns each check into a GX expectation; the loader uses the same
checks to explain, row by row, why a row is quarantined.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from expectations.spec import CONFIG_PREFIX, Bound, ColumnSpec, SourceSpec, SpecError, ValueSet

CLOCK_SKEW = dt.timedelta(days=1)
CheckKind = Literal["not_null", "in_set", "pipe_list_in_set", "range"]
RangeBound = float | dt.datetime


@dataclass(frozen=True)
class RowCheck:
    """One row-level expectation, resolved for one load, with what explains a failing row."""

    kind: CheckKind
    column: ColumnSpec
    values: tuple[str, ...] = ()
    min: RangeBound | None = None
    max: RangeBound | None = None


def pipe_list_regex(values: Sequence[str]) -> str:
    """A regex matching ``a|b|c`` where every element is one of ``values``."""
    one = "(?:" + "|".join(re.escape(value) for value in values) + ")"
    return rf"^{one}(?:\|{one})*$"


def resolve_value_set(value_set: ValueSet, config: Any) -> tuple[str, ...]:
    """A literal list as is; ``config:<table>.<column>`` as that column of the config table."""
    if isinstance(value_set, tuple):
        return value_set
    table, _, column = value_set.removeprefix(CONFIG_PREFIX).partition(".")
    rows = getattr(config, table, None)
    if rows is None:
        raise SpecError(f"value set {value_set!r}: the configuration has no table {table!r}")
    try:
        values = tuple(str(getattr(row, column)) for row in rows)
    except AttributeError as error:
        raise SpecError(
            f"value set {value_set!r}: {table} rows have no field {column!r}"
        ) from error
    if not values:
        raise SpecError(f"value set {value_set!r}: configuration table {table} is empty")
    return values


def resolve_bound(
    bound: Bound | None, side: Literal["min", "max"], load_time: dt.datetime
) -> RangeBound | None:
    """Numbers as is; dates as midnight; ``today``/``now`` as the load time ± one day of skew.

    ``load_time`` is naive UTC (the warehouse stores UTC timestamps without zone).
    """
    if bound is None or isinstance(bound, float):
        return bound
    if isinstance(bound, str):
        base = load_time
        if bound == "today":
            base = dt.datetime.combine(load_time.date(), dt.time())
        return base + CLOCK_SKEW if side == "max" else base - CLOCK_SKEW
    return dt.datetime.combine(bound, dt.time())


def row_checks(spec: SourceSpec, config: Any, load_time: dt.datetime) -> list[RowCheck]:
    """Every row-level check of ``spec``, in spec order, resolved for this load."""
    checks: list[RowCheck] = []
    for column in spec.columns:
        if column.not_null:
            checks.append(RowCheck("not_null", column))
        if column.in_set is not None:
            values = resolve_value_set(column.in_set, config)
            checks.append(RowCheck("in_set", column, values=values))
        if column.pipe_list_in_set is not None:
            values = resolve_value_set(column.pipe_list_in_set, config)
            checks.append(RowCheck("pipe_list_in_set", column, values=values))
        if column.min is not None or column.max is not None:
            low = resolve_bound(column.min, "min", load_time)
            high = resolve_bound(column.max, "max", load_time)
            checks.append(RowCheck("range", column, min=low, max=high))
    return checks
