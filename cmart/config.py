"""CRM configuration: load, validate and version the files the CRM team edits.

Configuration is layered: the shipped defaults (``cmart/config_defaults/``) first, then a
deployment's ``<data-dir>/config/``; a file present in a later layer replaces the whole file of
an earlier one. Every row is validated; an error names the file, the row and the field.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import duckdb
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_FILES = (
    "segments.csv",
    "product_paths.csv",
    "channels.csv",
    "response_types.csv",
    "settings.yml",
)
CONTACT_FIELDS = ("email", "mobile_phone", "postal_address", "home_branch_id", "rep_id")


class ConfigError(ValueError):
    """A configuration file is invalid. The message names file, row and field."""


def _pipe_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [part.strip() for part in str(value).split("|") if part.strip()]


def _empty_to_none(value: object) -> object:
    return None if isinstance(value, str) and value.strip() == "" else value


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Segment(_Row):
    priority: int = Field(ge=0)
    segment_code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    segment_name: str = Field(min_length=1)
    age_min: int = Field(ge=0, le=150)
    age_max: int = Field(ge=0, le=150)
    income_bands: list[str] = Field(default_factory=list)
    occupations: list[str] = Field(default_factory=list)

    _split = field_validator("income_bands", "occupations", mode="before")(_pipe_list)


class ProductPath(_Row):
    segment_code: str = Field(min_length=1)
    product_id: str = Field(min_length=1)
    path_position: int = Field(ge=1)


class Channel(_Row):
    channel_code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    channel_name: str = Field(min_length=1)
    requires_opt_in: bool
    daily_capacity: int | None = Field(default=None, ge=0)
    cost_per_contact: float = Field(ge=0)
    contact_fields: list[str] = Field(default_factory=list)
    message_kind: Literal["detailed", "short"] = "detailed"

    _split = field_validator("contact_fields", mode="before")(_pipe_list)
    _none = field_validator("daily_capacity", mode="before")(_empty_to_none)

    @field_validator("contact_fields")
    @classmethod
    def _known_fields(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(CONTACT_FIELDS))
        if unknown:
            raise ValueError(f"unknown contact field(s) {unknown}; allowed: {list(CONTACT_FIELDS)}")
        return value


class ResponseType(_Row):
    response_type: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    response_class: Literal["soft", "hard", "negative"]
    funnel_step: int = Field(ge=0)


class DecisionSettings(_Row):
    top_n_offers: int = Field(default=3, ge=1, le=50)
    response_suppression_days: int = Field(default=30, ge=0)
    attribution_window_days: int = Field(default=30, ge=1)
    propensity_prior_contacts: int = Field(default=200, ge=0)
    default_control_rate: float = Field(default=0.1, ge=0, le=1)


class QualitySettings(_Row):
    max_quarantine_share: float = Field(default=0.05, ge=0, le=1)
    min_rows_for_share_gate: int = Field(default=1000, ge=0)


class CampaignConfig(BaseModel):
    """The whole validated configuration plus its version (a hash of the files used)."""

    model_config = ConfigDict(frozen=True)

    segments: list[Segment]
    product_paths: list[ProductPath]
    channels: list[Channel]
    response_types: list[ResponseType]
    decisioning: DecisionSettings
    quality: QualitySettings
    version: str
    files: dict[str, str]  # file name -> path actually used

    @property
    def channel_codes(self) -> list[str]:
        return [channel.channel_code for channel in self.channels]

    def channel(self, code: str) -> Channel:
        for channel in self.channels:
            if channel.channel_code == code:
                return channel
        raise KeyError(f"unknown channel {code!r}; configured: {self.channel_codes}")


RowT = TypeVar("RowT", bound=_Row)


def _resolve_files(config_dirs: Sequence[Path]) -> dict[str, Path]:
    resolved: dict[str, Path] = {}
    for name in CONFIG_FILES:
        for directory in config_dirs:
            candidate = Path(directory) / name
            if candidate.is_file():
                resolved[name] = candidate
        if name not in resolved:
            searched = ", ".join(str(d) for d in config_dirs)
            raise ConfigError(f"configuration file {name} not found (searched: {searched})")
    return resolved


def _format_error(path: Path, row: int | None, error: ValidationError) -> str:
    where = f"{path}" + (f", row {row}" if row is not None else "")
    problems = []
    for detail in error.errors():
        field = ".".join(str(part) for part in detail["loc"]) or "(row)"
        problems.append(f"field '{field}': {detail['msg']} (got {detail.get('input')!r})")
    return f"{where}: " + "; ".join(problems)


def _read_csv_rows(path: Path, model: type[RowT]) -> list[RowT]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        expected = set(model.model_fields)
        found = {name.strip() for name in reader.fieldnames or []}
        required = {name for name, info in model.model_fields.items() if info.is_required()}
        missing = sorted(required - found)
        if missing:
            raise ConfigError(
                f"{path}: missing column(s) {missing}; the header must have {sorted(expected)}"
            )
        unknown = sorted(found - expected)
        if unknown:
            raise ConfigError(f"{path}: unknown column(s) {unknown}; allowed: {sorted(expected)}")
        rows: list[RowT] = []
        # Row numbers count the header as row 1, as a spreadsheet shows them.
        for line_number, record in enumerate(reader, start=2):
            cleaned = {key.strip(): value for key, value in record.items() if key is not None}
            cleaned = {key: value for key, value in cleaned.items() if value not in ("", None)}
            try:
                rows.append(model.model_validate(cleaned))
            except ValidationError as error:
                raise ConfigError(_format_error(path, line_number, error)) from error
    if not rows:
        raise ConfigError(f"{path}: the file has no rows")
    return rows


_SETTINGS_SECTIONS: dict[str, type[_Row]] = {
    "decisioning": DecisionSettings,
    "quality": QualitySettings,
}


def _read_settings(path: Path) -> dict[str, _Row]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle) or {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    unknown = sorted(set(document) - set(_SETTINGS_SECTIONS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown section(s) {unknown}; allowed: {sorted(_SETTINGS_SECTIONS)}"
        )
    sections: dict[str, _Row] = {}
    for section, model in _SETTINGS_SECTIONS.items():
        try:
            sections[section] = model.model_validate(document.get(section) or {})
        except ValidationError as error:
            message = _format_error(path, None, error).replace("field '", f"field '{section}.")
            raise ConfigError(message) from error
    return sections


def _unique(path: Path, rows: Iterable[_Row], key: Sequence[str]) -> None:
    seen: set[tuple[Any, ...]] = set()
    for index, row in enumerate(rows, start=2):
        value = tuple(getattr(row, name) for name in key)
        if value in seen:
            raise ConfigError(f"{path}, row {index}: duplicate {'/'.join(key)} {value}")
        seen.add(value)


def _check_references(files: dict[str, Path], config: dict[str, Any]) -> None:
    segment_codes = {segment.segment_code for segment in config["segments"]}
    for index, path_row in enumerate(config["product_paths"], start=2):
        if path_row.segment_code not in segment_codes:
            raise ConfigError(
                f"{files['product_paths.csv']}, row {index}: field 'segment_code': unknown segment "
                f"{path_row.segment_code!r}; defined in segments.csv: {sorted(segment_codes)}"
            )
    for segment_index, segment in enumerate(config["segments"], start=2):
        if segment.age_min > segment.age_max:
            raise ConfigError(
                f"{files['segments.csv']}, row {segment_index}: field 'age_min': "
                f"{segment.age_min} is greater than age_max {segment.age_max}"
            )


def config_version(files: dict[str, Path]) -> str:
    """A short, stable hash of the configuration files' names and contents."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def load_config(config_dirs: Sequence[Path]) -> CampaignConfig:
    """Load and validate the configuration; raises :class:`ConfigError` naming file/row/field."""
    files = _resolve_files(config_dirs)
    parsed: dict[str, Any] = {
        "segments": _read_csv_rows(files["segments.csv"], Segment),
        "product_paths": _read_csv_rows(files["product_paths.csv"], ProductPath),
        "channels": _read_csv_rows(files["channels.csv"], Channel),
        "response_types": _read_csv_rows(files["response_types.csv"], ResponseType),
        **_read_settings(files["settings.yml"]),
    }
    _unique(files["segments.csv"], parsed["segments"], ["segment_code"])
    _unique(files["segments.csv"], parsed["segments"], ["priority"])
    _unique(files["product_paths.csv"], parsed["product_paths"], ["segment_code", "product_id"])
    _unique(files["channels.csv"], parsed["channels"], ["channel_code"])
    _unique(files["response_types.csv"], parsed["response_types"], ["response_type"])
    _check_references(files, parsed)
    return CampaignConfig(
        **parsed,
        version=config_version(files),
        files={name: str(path) for name, path in files.items()},
    )


def _rows_table(rows: Sequence[BaseModel], schema: pa.Schema) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for row in rows:
        for name in schema.names:
            value = getattr(row, name)
            columns[name].append("|".join(value) if isinstance(value, list) else value)
            if isinstance(value, list) and not value:
                columns[name][-1] = None
    return pa.table(columns, schema=schema)


CONFIG_TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "segments": pa.schema(
        [
            ("priority", pa.int32()),
            ("segment_code", pa.string()),
            ("segment_name", pa.string()),
            ("age_min", pa.int32()),
            ("age_max", pa.int32()),
            ("income_bands", pa.string()),
            ("occupations", pa.string()),
        ]
    ),
    "product_paths": pa.schema(
        [("segment_code", pa.string()), ("product_id", pa.string()), ("path_position", pa.int32())]
    ),
    "channels": pa.schema(
        [
            ("channel_code", pa.string()),
            ("channel_name", pa.string()),
            ("requires_opt_in", pa.bool_()),
            ("daily_capacity", pa.int32()),
            ("cost_per_contact", pa.float64()),
            ("contact_fields", pa.string()),
            ("message_kind", pa.string()),
        ]
    ),
    "response_types": pa.schema(
        [
            ("response_type", pa.string()),
            ("response_class", pa.string()),
            ("funnel_step", pa.int32()),
        ]
    ),
    "decision_settings": pa.schema(
        [
            ("top_n_offers", pa.int32()),
            ("response_suppression_days", pa.int32()),
            ("attribution_window_days", pa.int32()),
            ("propensity_prior_contacts", pa.int32()),
            ("default_control_rate", pa.float64()),
        ]
    ),
}


def config_tables(config: CampaignConfig) -> dict[str, pa.Table]:
    """The configuration as Arrow tables, one per ``config.<table>`` in the warehouse."""
    rows_by_table: dict[str, Sequence[BaseModel]] = {
        "segments": config.segments,
        "product_paths": config.product_paths,
        "channels": config.channels,
        "response_types": config.response_types,
        "decision_settings": [config.decisioning],
    }
    return {
        name: _rows_table(rows, CONFIG_TABLE_SCHEMAS[name]) for name, rows in rows_by_table.items()
    }


def write_config_tables(con: duckdb.DuckDBPyConnection, config: CampaignConfig) -> None:
    """Replace the ``config`` schema's tables in one transaction."""
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists config")
        for name, table in config_tables(config).items():
            con.register("_config_rows", table)
            con.execute(f"create or replace table config.{name} as select * from _config_rows")
            con.unregister("_config_rows")
        con.execute(
            "create or replace table config.config_version as "
            "select ?::varchar as config_version, now()::timestamp as loaded_at",
            [config.version],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
