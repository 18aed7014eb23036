"""Typing a chunk, set-based in DuckDB.

The query returns ``_row``, every contract column typed (null when the file lacks it),
``_extra`` (JSON of columns the contract does not know), one ``__parse__<column>`` reason per
typed column whose value did not convert, one ``__rule__<n>`` reason per row rule of the spec
(``valid_to >= valid_from``) that the row breaks, and the reader's own row error.

Text (CSV, JSON lines, string columns of Parquet) is parsed: timestamps ISO 8601 with an
optional offset, naive = UTC (the session time zone is UTC), stored as UTC; dates YYYY-MM-DD;
booleans true/false, 1/0, yes/no in any case; numbers as DuckDB reads them, finite only. A
Parquet column already of a compatible type is converted directly (zoned timestamps to UTC).
"""

from __future__ import annotations

from collections.abc import Mapping

from expectations.spec import ColumnSpec, RowRule, SourceSpec
from loaders.readers import ERROR, ROW
from loaders.schema import SQL_TYPES, literal, quote

PARSE_PREFIX = "__parse__"
RULE_PREFIX = "__rule__"
RAW_PREFIX = "__raw__"
MAX_VALUE_CHARS = 100
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
# (length, format) of the offset-free forms parsed on a fast path: a failing try_strptime is
# slow, so the format is picked by length; anything else takes the time-zone-aware cast.
NAIVE_TIMESTAMP_FORMATS = ((19, "%Y-%m-%dT%H:%M:%S"), (26, "%Y-%m-%dT%H:%M:%S.%f"))
SIGNED_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
INTEGER_TYPES = frozenset([*SIGNED_INTEGERS, *(f"U{name}" for name in SIGNED_INTEGERS)])


def parse_column(column: str) -> str:
    """Name of the column holding the parse reason of ``column``."""
    return PARSE_PREFIX + column


def rule_column(number: int) -> str:
    """Name of the column holding the reason of row rule number ``number`` of the spec."""
    return f"{RULE_PREFIX}{number}"


def applicable_rules(spec: SourceSpec, file_columns: list[str]) -> list[tuple[int, RowRule]]:
    """(number, rule) of the spec's row rules whose two columns are both in the file."""
    present = set(file_columns)
    return [
        (number, rule)
        for number, rule in enumerate(spec.row_rules)
        if rule.left in present and rule.right in present
    ]


def check_label(spec: SourceSpec, name: str) -> tuple[str, str]:
    """("parse", column) for a ``__parse__`` column, ("row_rule", rule text) for a rule one."""
    if name.startswith(RULE_PREFIX):
        return "row_rule", spec.row_rules[int(name.removeprefix(RULE_PREFIX))].text
    return "parse", name.removeprefix(PARSE_PREFIX)


def _rule_reason(spec: SourceSpec, rule: RowRule) -> str:
    """SQL: the reason a typed row breaks ``rule`` (null if it holds or a side is null)."""
    left, right = quote(rule.left), quote(rule.right)
    operator = "<>" if rule.operator == "!=" else rule.operator

    def shown(name: str) -> str:
        value = f"cast({quote(name)} as varchar)"
        return f"{literal(f'{name}=')} || left({value}, {MAX_VALUE_CHARS})"

    return (
        f"case when {left} is not null and {right} is not null "
        f"and not ({left} {operator} {right}) "
        f"then {literal(f'row_rule: {rule.text} fails (')} || {shown(rule.left)} || ', ' || "
        f"{shown(rule.right)} || ')' end"
    )


def type_family(sql_type: str) -> str:
    """text, timestamp, date, boolean, integer, number, nested or other."""
    upper = sql_type.upper()
    if upper == "VARCHAR":
        return "text"
    if upper.startswith("TIMESTAMP"):
        return "timestamp"
    if upper in ("DATE", "BOOLEAN"):
        return upper.lower()
    if upper in INTEGER_TYPES:
        return "integer"
    if upper in ("FLOAT", "DOUBLE") or upper.startswith("DECIMAL"):
        return "number"
    if upper.startswith(("STRUCT", "MAP", "UNION")) or upper.endswith("]"):
        return "nested"
    return "other"


def _words(words: tuple[str, ...]) -> str:
    return ", ".join(literal(word) for word in words)


def parse_text(column: ColumnSpec, value: str) -> str:
    """SQL turning the text expression ``value`` into the column's type (null if it fails)."""
    trimmed = f"trim({value})"
    if column.type == "varchar":
        return f"nullif({value}, '')"
    if column.type == "date":
        return f"cast(try_strptime({trimmed}, '%Y-%m-%d') as date)"
    if column.type == "timestamp":
        naive = " ".join(
            f"when length({value}) = {length} then try_strptime({value}, {literal(form)})"
            for length, form in NAIVE_TIMESTAMP_FORMATS
        )
        aware = f"cast(try_cast({trimmed} as timestamptz) as timestamp)"
        return f"coalesce(case {naive} end, {aware})"
    if column.type == "boolean":
        lowered = f"lower({trimmed})"
        return (
            f"case when {lowered} in ({_words(TRUE_WORDS)}) then true "
            f"when {lowered} in ({_words(FALSE_WORDS)}) then false end"
        )
    if column.type == "double":
        number = f"try_cast({trimmed} as double)"
        return f"case when isfinite({number}) then {number} end"
    whole = f"regexp_full_match({trimmed}, '[+-]?[0-9]+')"
    return f"case when {whole} then try_cast({trimmed} as bigint) end"


def as_text(value: str, family: str) -> str:
    """A source value of any type as text (nested values as JSON)."""
    if family == "text":
        return value
    if family == "nested":
        return f"cast(to_json({value}) as varchar)"
    return f"cast({value} as varchar)"


def typed_expression(column: ColumnSpec, value: str, family: str = "text") -> str:
    """SQL turning ``value`` (of type ``family``) into the column's type (null if it fails)."""
    direct = {
        ("timestamp", "timestamp"): f"cast({value} as timestamp)",
        ("timestamp", "date"): f"cast({value} as timestamp)",
        ("date", "date"): value,
        ("date", "timestamp"): f"cast({value} as date)",
        ("boolean", "boolean"): value,
        ("integer", "integer"): f"cast({value} as bigint)",
        ("double", "integer"): f"cast({value} as double)",
        ("double", "number"): f"case when isfinite({value}) then cast({value} as double) end",
    }
    if (column.type, family) in direct:
        return direct[(column.type, family)]
    if family != "text" and column.type == "varchar":
        return as_text(value, family)
    return parse_text(column, as_text(value, family))


def _parse_reason(column: ColumnSpec, raw: str, family: str, typed: str) -> str:
    present = f"nullif(trim({raw}), '') is not null" if family == "text" else f"{raw} is not null"
    shown = f"left({as_text(raw, family)}, {MAX_VALUE_CHARS})"
    prefix = literal(f"parse: {column.name}='")
    suffix = literal(f"' is not a valid {column.type}")
    return f"case when {present} and {typed} is null then {prefix} || {shown} || {suffix} end"


def typed_select(
    spec: SourceSpec,
    file_columns: list[str],
    view: str,
    source_types: Mapping[str, str],
    has_error: bool,
) -> str:
    """The typing query over ``view``: a chunk with the file's columns (DuckDB types in
    ``source_types``), ``ROW`` and, if ``has_error``, the reader's per-row ``ERROR``."""
    present = set(file_columns)
    inner: list[str] = [f"{ROW} as _row"]
    outer: list[str] = ["_row"]
    reasons: list[str] = []
    for column in spec.columns:
        name = quote(column.name)
        outer.append(name)
        if column.name not in present:
            inner.append(f"cast(null as {SQL_TYPES[column.type]}) as {name}")
            continue
        family = type_family(source_types[column.name])
        if column.type != "varchar":
            raw = quote(RAW_PREFIX + column.name)
            inner.append(f"{name} as {raw}")
            reason = _parse_reason(column, raw, family, name)
            reasons.append(f"{reason} as {quote(parse_column(column.name))}")
        inner.append(f"{typed_expression(column, name, family)} as {name}")
    extras = [name for name in file_columns if name not in spec.column_names]
    if extras:
        pairs = ", ".join(f"{literal(name)}, {quote(name)}" for name in extras)
        inner.append(f"cast(json_object({pairs}) as varchar) as _extra")
    else:
        inner.append("cast(null as varchar) as _extra")
    inner.append(f"{ERROR} as {ERROR}" if has_error else f"cast(null as varchar) as {ERROR}")
    rules = [
        f"{_rule_reason(spec, rule)} as {quote(rule_column(number))}"
        for number, rule in applicable_rules(spec, file_columns)
    ]
    outer += ["_extra", *reasons, *rules, ERROR]
    return (
        f"with typed as (select {', '.join(inner)} from {view}) "
        f"select {', '.join(outer)} from typed"
    )


def parse_columns(spec: SourceSpec, file_columns: list[str]) -> list[str]:
    """The ``__parse__`` and ``__rule__`` columns :func:`typed_select` produces for this file."""
    parsed = [
        parse_column(column.name)
        for column in spec.columns
        if column.type != "varchar" and column.name in file_columns
    ]
    return parsed + [rule_column(number) for number, _ in applicable_rules(spec, file_columns)]
