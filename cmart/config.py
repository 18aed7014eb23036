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
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

CONFIG_FILES = (
    "segments.csv",
    "product_paths.csv",
    "channels.csv",
    "response_types.csv",
    "settings.yml",
)
# Files a deployment may leave out: contact policies fall back to one unrestricted `default`
# row, products without channel rules may use every channel of their offers, and a product
# without a tier row keeps the tier of the `products` landing source.
OPTIONAL_CONFIG_FILES = ("contact_policies.csv", "product_channels.csv", "product_tiers.csv")
DEFAULT_POLICY = "default"
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


class ContactPolicy(_Row):
    """One row of contact_policies.csv: `default`, or a channel whose empty cells inherit it."""

    channel_code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    max_contacts_7d: int | None = Field(default=None, ge=0)
    max_contacts_30d: int | None = Field(default=None, ge=0)
    decline_cooldown_days: int | None = Field(default=None, ge=0)
    suppress_while_complaint_open: bool | None = None
    min_days_between_same_product: int | None = Field(default=None, ge=0, le=365)

    _none = field_validator(
        "max_contacts_7d",
        "max_contacts_30d",
        "decline_cooldown_days",
        "suppress_while_complaint_open",
        "min_days_between_same_product",
        mode="before",
    )(_empty_to_none)


class ResolvedContactPolicy(_Row):
    """The policy one channel applies, after inheriting the `default` row (None = no cap)."""

    channel_code: str
    max_contacts_7d: int | None
    max_contacts_30d: int | None
    decline_cooldown_days: int
    suppress_while_complaint_open: bool
    min_days_between_same_product: int


class ProductChannel(_Row):
    product_id: str = Field(min_length=1)
    channel_code: str = Field(min_length=1)
    channel_order: int = Field(ge=1)


class ProductTier(_Row):
    product_id: str = Field(min_length=1)
    tier: Literal["premium", "mass"]


class DecisionSettings(_Row):
    top_n_offers: int = Field(default=3, ge=1, le=50)
    response_suppression_days: int = Field(default=30, ge=0)
    attribution_window_days: int = Field(default=30, ge=1)
    propensity_prior_contacts: int = Field(default=200, ge=0)
    default_control_rate: float = Field(default=0.1, ge=0, le=1)
    # score = propensity ^ propensity_weight x value ^ value_weight - cost_weight x cost/contact
    propensity_weight: float = Field(default=1.0, ge=0, le=10)
    value_weight: float = Field(default=1.0, ge=0, le=10)
    cost_weight: float = Field(default=0.0, ge=0)
    separate_tiers: bool = True
    capacity_fallback_channels: int = Field(default=2, ge=0, le=3)
    eligibility_log_window_days: int = Field(default=30, ge=0, le=365)
    # fct_offer_eligibility keeps this many run dates (the run date and the days before it)
    eligibility_log_retention_days: int = Field(default=7, ge=1, le=3650)
    # intraday: a pair a response suppresses is replaced by the customer's next-best offer on
    # the same channel (int_offer_revised) instead of only leaving the list
    revise_after_response: bool = False


class PropensitySettings(_Row):
    """The propensity model: training-set size, label window, split and boosting settings."""

    max_training_rows: int = Field(default=500_000, ge=1_000)
    label_days: int = Field(default=21, ge=1, le=365)
    validation_days: int = Field(default=14, ge=1, le=365)
    history_days: int = Field(default=90, ge=1, le=3650)
    min_training_rows: int = Field(default=500, ge=10)
    max_iter: int = Field(default=200, ge=10, le=5000)
    learning_rate: float = Field(default=0.05, gt=0, le=1)
    max_leaf_nodes: int = Field(default=15, ge=2, le=1024)
    min_samples_leaf: int = Field(default=200, ge=1)
    l2_regularization: float = Field(default=10.0, ge=0)
    # activate a new version only when its validation AUC beats the segment-rate baseline's
    activate_only_if_better: bool = False


class QualitySettings(_Row):
    max_quarantine_share: float = Field(default=0.05, ge=0, le=1)
    min_rows_for_share_gate: int = Field(default=1000, ge=0)


PII_MASKS = ("hash", "redact")
DEFAULT_PII_COLUMNS: dict[str, str] = {
    "national_id": "hash",
    "first_name": "redact",
    "last_name": "redact",
    "full_name": "redact",
    "birth_date": "redact",
    "email": "hash",
    "email_home": "hash",
    "email_work": "hash",
    "mobile_phone": "hash",
    "home_address": "redact",
    "work_address": "redact",
    "postal_address": "redact",
}


class ReportingSettings(_Row):
    """Low-performer alert rules, lift thresholds and the analysts' PII masking."""

    alert_min_contacts: int = Field(default=500, ge=1)
    alert_warning_rate_ratio: float = Field(default=0.5, gt=0, le=1)
    alert_critical_rate_ratio: float = Field(default=0.25, ge=0, le=1)
    alert_on_negative_lift: bool = True
    lift_min_contacts: int = Field(default=100, ge=1)
    pii_columns: dict[str, Literal["hash", "redact"]] = Field(
        default_factory=lambda: dict(DEFAULT_PII_COLUMNS)
    )

    @model_validator(mode="after")
    def _critical_below_warning(self) -> ReportingSettings:
        if self.alert_critical_rate_ratio > self.alert_warning_rate_ratio:
            raise ValueError(
                f"alert_critical_rate_ratio ({self.alert_critical_rate_ratio}) must not exceed "
                f"alert_warning_rate_ratio ({self.alert_warning_rate_ratio})"
            )
        return self


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
    contact_policies: list[ContactPolicy] = Field(
        default_factory=lambda: [ContactPolicy(channel_code=DEFAULT_POLICY)]
    )
    product_channels: list[ProductChannel] = Field(default_factory=list)
    product_tiers: list[ProductTier] = Field(default_factory=list)
    reporting: ReportingSettings = Field(default_factory=ReportingSettings)
    propensity: PropensitySettings = Field(default_factory=PropensitySettings)

    def contact_policy(self, code: str) -> ResolvedContactPolicy:
        """The contact policy of channel ``code``: its row, empty cells from `default`."""
        by_code = {policy.channel_code: policy for policy in self.contact_policies}
        base = by_code.get(DEFAULT_POLICY, ContactPolicy(channel_code=DEFAULT_POLICY))
        own = by_code.get(code, base)

        def pick(name: str) -> Any:
            value = getattr(own, name)
            return getattr(base, name) if value is None else value

        cooldown = pick("decline_cooldown_days")
        suppress = pick("suppress_while_complaint_open")
        min_days = pick("min_days_between_same_product")
        return ResolvedContactPolicy(
            channel_code=code,
            max_contacts_7d=pick("max_contacts_7d"),
            max_contacts_30d=pick("max_contacts_30d"),
            decline_cooldown_days=0 if cooldown is None else cooldown,
            suppress_while_complaint_open=True if suppress is None else suppress,
            min_days_between_same_product=0 if min_days is None else min_days,
        )

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
    for name in OPTIONAL_CONFIG_FILES:
        for directory in config_dirs:
            candidate = Path(directory) / name
            if candidate.is_file():
                resolved[name] = candidate
    return resolved


def _format_error(path: Path, row: int | None, error: ValidationError) -> str:
    where = f"{path}" + (f", row {row}" if row is not None else "")
    problems = []
    for detail in error.errors():
        field = ".".join(str(part) for part in detail["loc"]) or "(row)"
        problems.append(f"field '{field}': {detail['msg']} (got {detail.get('input')!r})")
    return f"{where}: " + "; ".join(problems)


def _read_csv_rows(path: Path, model: type[RowT], allow_empty: bool = False) -> list[RowT]:
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
    if not rows and not allow_empty:
        raise ConfigError(f"{path}: the file has no rows")
    return rows


_SETTINGS_SECTIONS: dict[str, type[_Row]] = {
    "decisioning": DecisionSettings,
    "quality": QualitySettings,
    "reporting": ReportingSettings,
    "propensity": PropensitySettings,
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


def _read_optional(files: dict[str, Path], name: str, model: type[RowT]) -> list[RowT]:
    return _read_csv_rows(files[name], model, allow_empty=True) if name in files else []


def _row_error(files: dict[str, Path], name: str, index: int, field: str, problem: str) -> str:
    return f"{files[name]}, row {index}: field '{field}': {problem}"


def _check_policies(files: dict[str, Path], config: dict[str, Any]) -> None:
    """Contact policies, channel rules and tiers must name known channels and make sense."""
    channel_codes = {channel.channel_code for channel in config["channels"]}
    if "contact_policies.csv" in files:
        policies: list[ContactPolicy] = config["contact_policies"]
        name = "contact_policies.csv"
        _unique(files[name], policies, ["channel_code"])
        if DEFAULT_POLICY not in {policy.channel_code for policy in policies}:
            raise ConfigError(
                f"{files[name]}: no '{DEFAULT_POLICY}' row; add one (channel_code "
                f"'{DEFAULT_POLICY}') that every channel without its own row follows"
            )
        for index, policy in enumerate(policies, start=2):
            if policy.channel_code not in channel_codes | {DEFAULT_POLICY}:
                problem = (
                    f"unknown channel {policy.channel_code!r}; use '{DEFAULT_POLICY}' or one "
                    f"of channels.csv: {sorted(channel_codes)}"
                )
                raise ConfigError(_row_error(files, name, index, "channel_code", problem))
            if (
                policy.max_contacts_7d is not None
                and policy.max_contacts_30d is not None
                and policy.max_contacts_7d > policy.max_contacts_30d
            ):
                problem = (
                    f"{policy.max_contacts_7d} is greater than max_contacts_30d "
                    f"{policy.max_contacts_30d} (7 days are part of the 30)"
                )
                raise ConfigError(_row_error(files, name, index, "max_contacts_7d", problem))
    if "product_channels.csv" in files:
        name = "product_channels.csv"
        rules: list[ProductChannel] = config["product_channels"]
        _unique(files[name], rules, ["product_id", "channel_code"])
        _unique(files[name], rules, ["product_id", "channel_order"])
        for index, rule in enumerate(rules, start=2):
            if rule.channel_code not in channel_codes:
                problem = (
                    f"unknown channel {rule.channel_code!r}; defined in channels.csv: "
                    f"{sorted(channel_codes)}"
                )
                raise ConfigError(_row_error(files, name, index, "channel_code", problem))
    if "product_tiers.csv" in files:
        _unique(files["product_tiers.csv"], config["product_tiers"], ["product_id"])


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
        "product_channels": _read_optional(files, "product_channels.csv", ProductChannel),
        "product_tiers": _read_optional(files, "product_tiers.csv", ProductTier),
    }
    if "contact_policies.csv" in files:
        parsed["contact_policies"] = _read_csv_rows(files["contact_policies.csv"], ContactPolicy)
    _unique(files["segments.csv"], parsed["segments"], ["segment_code"])
    _unique(files["segments.csv"], parsed["segments"], ["priority"])
    _unique(files["product_paths.csv"], parsed["product_paths"], ["segment_code", "product_id"])
    _unique(files["channels.csv"], parsed["channels"], ["channel_code"])
    _unique(files["response_types.csv"], parsed["response_types"], ["response_type"])
    _check_references(files, parsed)
    _check_policies(files, parsed)
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
            ("propensity_weight", pa.float64()),
            ("value_weight", pa.float64()),
            ("cost_weight", pa.float64()),
            ("separate_tiers", pa.bool_()),
            ("capacity_fallback_channels", pa.int32()),
            ("eligibility_log_window_days", pa.int32()),
            ("eligibility_log_retention_days", pa.int32()),
            ("revise_after_response", pa.bool_()),
        ]
    ),
    "contact_policies": pa.schema(
        [
            ("channel_code", pa.string()),
            ("max_contacts_7d", pa.int32()),
            ("max_contacts_30d", pa.int32()),
            ("decline_cooldown_days", pa.int32()),
            ("suppress_while_complaint_open", pa.bool_()),
            ("min_days_between_same_product", pa.int32()),
        ]
    ),
    "product_channels": pa.schema(
        [("product_id", pa.string()), ("channel_code", pa.string()), ("channel_order", pa.int32())]
    ),
    "product_tiers": pa.schema([("product_id", pa.string()), ("tier", pa.string())]),
    "propensity_settings": pa.schema(
        [
            ("max_training_rows", pa.int64()),
            ("label_days", pa.int32()),
            ("validation_days", pa.int32()),
            ("history_days", pa.int32()),
        ]
    ),
    "reporting_settings": pa.schema(
        [
            ("alert_min_contacts", pa.int32()),
            ("alert_warning_rate_ratio", pa.float64()),
            ("alert_critical_rate_ratio", pa.float64()),
            ("alert_on_negative_lift", pa.bool_()),
            ("lift_min_contacts", pa.int32()),
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
        # one resolved row per channel: the `default` row's values where the channel has none
        "contact_policies": [config.contact_policy(code) for code in config.channel_codes],
        "product_channels": config.product_channels,
        "product_tiers": config.product_tiers,
        "reporting_settings": [config.reporting],
        "propensity_settings": [config.propensity],
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
