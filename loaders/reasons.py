"""Why a row is quarantined, written set-based in SQL.

Inputs are three registered views: the typed chunk (``_row``, typed columns, ``__parse__*``
reasons and the reader's error), the GX failures ``(_row, check_number)`` and the check list. A row
may have several reasons, joined with ``; ``: parse errors first, then failed checks in suite
order. A row the reader could not parse gets only its read error; a value that did not parse
is not reported again as empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from expectations.checks import RangeBound, RowCheck
from loaders.readers import ERROR
from loaders.schema import literal, quote
from loaders.typed import MAX_VALUE_CHARS, parse_column

MAX_SET_VALUES = 12


def _shown_set(values: Sequence[str]) -> str:
    shown = ", ".join(values[:MAX_SET_VALUES])
    return shown + (f", … ({len(values)} values)" if len(values) > MAX_SET_VALUES else "")


def _bound_text(bound: RangeBound) -> str:
    if isinstance(bound, dt.datetime):
        if bound.time() == dt.time():
            return bound.date().isoformat()
        return bound.isoformat(timespec="seconds")
    return f"{bound:g}"


def _bound_sql(bound: RangeBound, column_type: str) -> str:
    if isinstance(bound, dt.datetime):
        cast_to = "date" if column_type == "date" else "timestamp"
        return f"cast({literal(bound.isoformat(sep=' '))} as {cast_to})"
    return repr(float(bound))


def _value_text(check: RowCheck, value: str) -> str:
    if check.column.type == "timestamp":
        return f"strftime({value}, '%Y-%m-%dT%H:%M:%S')"
    return f"left(cast({value} as varchar), {MAX_VALUE_CHARS})"


def _range_reason(check: RowCheck, value: str) -> str:
    name = check.column.name
    shown = _value_text(check, value)
    numeric = check.column.type in ("double", "integer")
    below, above = ("is below", "is above") if numeric else ("is before", "is after")
    parts: list[str] = []
    if check.min is not None:
        message = f" {below} {_bound_text(check.min)}"
        parts.append(
            f"when {value} < {_bound_sql(check.min, check.column.type)} "
            f"then {literal(f'range: {name}=')} || {shown} || {literal(message)}"
        )
    if check.max is not None:
        message = f" {above} {_bound_text(check.max)}"
        parts.append(
            f"when {value} > {_bound_sql(check.max, check.column.type)} "
            f"then {literal(f'range: {name}=')} || {shown} || {literal(message)}"
        )
    fallback = literal(f"range: {name} is out of range")
    return f"case {' '.join(parts)} else {fallback} end"


def check_reason(check: RowCheck, typed_alias: str) -> str:
    """SQL for the reason of one failed check, reading the typed row ``typed_alias``."""
    name = check.column.name
    value = f"{typed_alias}.{quote(name)}"
    shown = f"left({value}, {MAX_VALUE_CHARS})"
    if check.kind == "not_null":
        if check.column.type == "varchar":
            return literal(f"not_null: {name} is empty")
        parsed = f"{typed_alias}.{quote(parse_column(name))}"
        return f"case when {parsed} is null then {literal(f'not_null: {name} is empty')} end"
    if check.kind == "in_set":
        message = f"' is not one of {_shown_set(check.values)}"
        return f"{literal(f'in_set: {name}=' + chr(39))} || {shown} || {literal(message)}"
    if check.kind == "pipe_list_in_set":
        allowed = "[" + ", ".join(literal(item) for item in check.values) + "]"
        unknown = f"lambda item: not list_contains({allowed}, item)"
        bad = f"list_filter(string_split({value}, '|'), {unknown})"
        message = f"' has element(s) not in {_shown_set(check.values)}: "
        return (
            f"{literal(f'pipe_list_in_set: {name}=' + chr(39))} || {shown} || {literal(message)} "
            f"|| array_to_string({bad}, '|')"
        )
    return _range_reason(check, value)


def reasons_select(
    checks: Sequence[RowCheck], parse_columns: Sequence[str], typed_view: str, failures_view: str
) -> str:
    """Query returning ``(_row, reason)`` for every row of the chunk that must be quarantined."""
    cases = " ".join(
        f"when {number} then {check_reason(check, 'typed')}" for number, check in enumerate(checks)
    )
    check_reason_sql = f"case failures.check_number {cases} end" if checks else "null"
    aggregated = f"string_agg({check_reason_sql}, '; ' order by failures.check_number)"
    parse_parts = [ERROR, *(quote(name) for name in parse_columns)]
    parse_sql = ", ".join(parse_parts)
    any_parse = " or ".join(f"{part} is not null" for part in parse_parts)
    return f"""
        with check_reasons as (
            select typed._row, {aggregated} as reason
            from {failures_view} as failures
            inner join {typed_view} as typed on typed._row = failures._row
            where typed.{ERROR} is null
            group by typed._row
        ),
        parse_reasons as (
            select _row, concat_ws('; ', {parse_sql}) as reason
            from {typed_view}
            where {any_parse}
        ),
        combined as (
            select
                coalesce(parse_reasons._row, check_reasons._row) as _row,
                nullif(concat_ws('; ', parse_reasons.reason, check_reasons.reason), '') as reason
            from parse_reasons
            full outer join check_reasons on check_reasons._row = parse_reasons._row
        )
        select _row, reason from combined where reason is not null order by _row
    """
