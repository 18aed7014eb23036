"""The landing contract as data: one YAML file per source (``expectations/<source>.yml``).

Each spec names the key, the column that orders versions of a key, and per column how it is
parsed (``type``), whether the file must have it (``required``) and the row-level expectations
(``not_null``, ``in_set``, ``pipe_list_in_set``, ``min``, ``max``), plus ``row_rules``: comparisons
between two columns of the same row (``valid_to >= valid_from``). This module only reads and
checks the files; :mod:`expectations.suites` turns a spec into a Great Expectations suite.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml

SPEC_DIR = Path(__file__).resolve().parent
SOURCES: tuple[str, ...] = tuple(sorted(path.stem for path in SPEC_DIR.glob("*.yml")))

ColumnType = Literal["varchar", "date", "timestamp", "boolean", "double", "integer"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)
CONFIG_PREFIX = "config:"
RELATIVE_BOUNDS = ("today", "now")
# pandas compares datetimes as nanoseconds: bounds must lie inside that range.
EARLIEST_BOUND = dt.date(1678, 1, 1)
LATEST_BOUND = dt.date(2261, 12, 31)

_COLUMN_KEYS = {"type", "required", "not_null", "in_set", "pipe_list_in_set", "min", "max"}
_SPEC_KEYS = {"source", "description", "key", "order_by", "columns", "row_rules"}
RULE_OPERATORS = (">=", "<=", "!=", "=", ">", "<")
_RULE_PATTERN = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*(>=|<=|!=|=|>|<)\s*([a-z_][a-z0-9_]*)\s*$")

Bound = float | dt.date | str  # str: "today" or "now", resolved at load time
ValueSet = tuple[str, ...] | str  # str: "config:<table>.<column>", resolved at load time


class SpecError(ValueError):
    """An expectations YAML file is invalid; the message names the file and the column."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: ColumnType = "varchar"
    required: bool = False
    not_null: bool = False
    in_set: ValueSet | None = None
    pipe_list_in_set: ValueSet | None = None
    min: Bound | None = None
    max: Bound | None = None


@dataclass(frozen=True)
class RowRule:
    """``<left> <operator> <right>`` over two columns of one row; holds when either is null."""

    left: str
    operator: str
    right: str

    @property
    def text(self) -> str:
        return f"{self.left} {self.operator} {self.right}"


@dataclass(frozen=True)
class SourceSpec:
    source: str
    description: str
    key: tuple[str, ...]
    order_by: str | None
    columns: tuple[ColumnSpec, ...]
    row_rules: tuple[RowRule, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    def column(self, name: str) -> ColumnSpec:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.source}: no column {name!r} in the spec")


def _value_set(where: str, value: Any) -> ValueSet | None:
    if value is None:
        return None
    if isinstance(value, str):
        table, _, column = value.removeprefix(CONFIG_PREFIX).partition(".")
        if not value.startswith(CONFIG_PREFIX) or not table or not column:
            raise SpecError(f"{where}: a value set is a list or 'config:<table>.<column>'")
        return value
    if isinstance(value, list) and value:
        return tuple(str(item) for item in value)
    raise SpecError(f"{where}: a value set is a non-empty list or 'config:<table>.<column>'")


def _bound(where: str, column_type: str, value: Any) -> Bound | None:
    if value is None:
        return None
    if column_type in ("double", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(f"{where}: a bound of a {column_type} column must be a number")
        return float(value)
    if column_type not in ("date", "timestamp"):
        raise SpecError(f"{where}: min/max only apply to number, date and timestamp columns")
    if value in RELATIVE_BOUNDS:
        return cast(str, value)
    try:
        bound = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise SpecError(f"{where}: bound {value!r} is not YYYY-MM-DD, 'today' or 'now'") from error
    if isinstance(bound, dt.datetime):
        bound = bound.date()
    if not EARLIEST_BOUND <= bound <= LATEST_BOUND:
        raise SpecError(f"{where}: bound {bound} is outside {EARLIEST_BOUND}..{LATEST_BOUND}")
    return bound


def _column(where: str, name: str, raw: Any) -> ColumnSpec:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: a column is a mapping of type/required/not_null/...")
    unknown = sorted(set(raw) - _COLUMN_KEYS)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_COLUMN_KEYS)}")
    column_type = raw.get("type", "varchar")
    if column_type not in COLUMN_TYPES:
        raise SpecError(f"{where}: type {column_type!r} is not one of {list(COLUMN_TYPES)}")
    if column_type != "varchar" and ("in_set" in raw or "pipe_list_in_set" in raw):
        raise SpecError(f"{where}: in_set/pipe_list_in_set only apply to varchar columns")
    return ColumnSpec(
        name=name,
        type=column_type,
        required=bool(raw.get("required", False)),
        not_null=bool(raw.get("not_null", False)),
        in_set=_value_set(f"{where}.in_set", raw.get("in_set")),
        pipe_list_in_set=_value_set(f"{where}.pipe_list_in_set", raw.get("pipe_list_in_set")),
        min=_bound(f"{where}.min", column_type, raw.get("min")),
        max=_bound(f"{where}.max", column_type, raw.get("max")),
    )


def _row_rule(where: str, raw: Any, columns: dict[str, ColumnSpec]) -> RowRule:
    match = _RULE_PATTERN.match(str(raw)) if isinstance(raw, str) else None
    if match is None:
        raise SpecError(
            f"{where}: a row rule is '<column> <operator> <column>' with an operator in "
            f"{list(RULE_OPERATORS)}, e.g. 'valid_to >= valid_from'"
        )
    left, operator, right = match.groups()
    unknown = sorted({left, right} - set(columns))
    if unknown:
        raise SpecError(f"{where}: row rule {raw!r} names unknown column(s) {unknown}")
    if columns[left].type != columns[right].type:
        raise SpecError(f"{where}: row rule {raw!r} compares columns of different types")
    return RowRule(left, operator, right)


def parse_spec(where: str, raw: Any) -> SourceSpec:
    """Check one spec document (already parsed from YAML); ``where`` names it in errors."""
    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict):
        raise SpecError(f"{where}: expected a mapping with source, key and columns")
    unknown = sorted(set(raw) - _SPEC_KEYS)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_SPEC_KEYS)}")
    columns = tuple(
        _column(f"{where}: column {name}", str(name).strip().lower(), column)
        for name, column in raw["columns"].items()
    )
    names = [column.name for column in columns]
    key = tuple(str(item) for item in raw.get("key") or [])
    order_by = raw.get("order_by")
    missing = sorted({*key, *([order_by] if order_by else [])} - set(names))
    if not key or missing:
        raise SpecError(f"{where}: key/order_by must name spec columns (not found: {missing})")
    by_name = {column.name: column for column in columns}
    rules = raw.get("row_rules") or []
    if not isinstance(rules, list):
        raise SpecError(f"{where}: row_rules is a list of '<column> <operator> <column>'")
    return SourceSpec(
        source=str(raw.get("source") or ""),
        description=str(raw.get("description") or ""),
        key=key,
        order_by=order_by,
        columns=columns,
        row_rules=tuple(_row_rule(f"{where}: row_rules", rule, by_name) for rule in rules),
    )


def load_spec(source: str, spec_dir: Path = SPEC_DIR) -> SourceSpec:
    """Read ``<spec_dir>/<source>.yml``; raise :class:`SpecError` naming the file if invalid."""
    path = spec_dir / f"{source}.yml"
    if not path.is_file():
        raise SpecError(f"no expectations spec for source {source!r} ({path} not found)")
    spec = parse_spec(str(path), yaml.safe_load(path.read_text(encoding="utf-8")))
    if spec.source != source:
        raise SpecError(f"{path}: source is {spec.source!r}, expected {source!r}")
    return spec


def load_specs(spec_dir: Path = SPEC_DIR) -> dict[str, SourceSpec]:
    """Every spec in ``spec_dir``, by source name."""
    sources = sorted(path.stem for path in spec_dir.glob("*.yml"))
    return {source: load_spec(source, spec_dir) for source in sources}
