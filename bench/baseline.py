"""The hand-written DuckDB baseline: landing files in, channel files out, one script.

What a competent data engineer would write instead of the whole mart when the only question is
"which offers go to which customer on which channel today": it reads the landing files directly
(CSV, CSV.gz, JSON lines, Parquet; any mix), normalises and deduplicates only the columns the
decision needs, and computes, with the same rules as the pipeline's decisioning
(int_offer_channels_expanded -> int_offer_candidates -> int_offer_arbitrated -> nbo):

* the customer's segment (first rule by priority on age at the run date, income band,
  occupation) and the products on the segment's path that the customer does not hold;
* active offers (offer and campaign valid on the run date) on each of their channels that the
  product's channel rules allow (product_channels; a product without rules: every channel);
* the consent rule of CONTRACTS.md (latest event per customer, channel and topic; an `all`
  opt-out beats a topic opt-in; opt-in channels need an explicit opt-in);
* the channel's contact policy (contact_policies, `default` row inherited): no open complaint
  where it says so, the 7- and 30-day caps on treated contacts, the decline cool-down (a
  negative response to any offer of the product) and the days between offers of one product;
  no response to the same offer in the suppression window;
* reachability: the channel's contact fields exist (e-mail and postal address picked by the
  customer's preferences; mobile phone and e-mail completed from matched CRM records; the
  customer's rep);
* score = propensity^propensity_weight x value^value_weight - cost_weight x cost per contact,
  propensity = smoothed hard-response rate per (segment at contact, product, channel), with
  responses attributed to contacts (the given contact if valid, else a lag-weighted draw among
  the contacts in the window, as int_response_attributed);
* arbitration: channels per offer by the product's channel order, then score; one offer per
  product; the tier of the customer's best offer (premium and mass never together); the top N
  offers; the control group and the A/B cell by the same md5 buckets; then placement rounds:
  per customer and channel while the caps leave room, then the channel's daily capacity to
  the highest scores, a loser trying its next channel (capacity_fallback_channels more);

and writes `offers.csv` + `offers.parquet` + `_manifest.json` per channel, control group left
out. It uses nothing but DuckDB (and the standard library). Run it as
``python -m bench.baseline --landing-dir D/landing --out-dir OUT --run-date YYYY-MM-DD``
(``--rules`` JSON of `Rules`, as `bench.harness.decision_rules` writes it; without, the
configuration folder's files and the shipped settings); it prints its phase timings as JSON.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

BASE_COLUMNS = ("customer_id", "offer_id", "campaign_id", "product_id", "channel", "rank", "score")
FORMULA_PATTERN = r"^([=@\t\r]|[+\-][^0-9 ])"
EXTENSIONS = {".csv": "csv", ".gz": "csv", ".jsonl": "json", ".parquet": "parquet"}
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[1] / "cmart" / "config_defaults"


POLICY_FIELDS = (
    "max_contacts_7d",
    "max_contacts_30d",
    "decline_cooldown_days",
    "suppress_while_complaint_open",
    "min_days_between_same_product",
)


@dataclass(frozen=True)
class Rules:
    """The decisioning configuration (settings.yml `decisioning:` and the optional CSVs).

    `contact_policies`, `product_channels` and `product_tiers` left at None are read from the
    configuration folder (contact_policies.csv, product_channels.csv, product_tiers.csv)."""

    top_n_offers: int = 3
    response_suppression_days: int = 30
    attribution_window_days: int = 30
    propensity_prior_contacts: int = 200
    default_control_rate: float = 0.1
    propensity_weight: float = 1.0
    value_weight: float = 1.0
    cost_weight: float = 0.0
    separate_tiers: bool = True
    capacity_fallback_channels: int = 2
    # channel (or `default`) -> {POLICY_FIELDS: value or None}; a channel's missing or null
    # fields inherit the `default` entry's, as contact_policies.csv rows do
    contact_policies: dict[str, dict[str, object]] | None = None
    # product -> {channel: channel_order}: a product listed may use only those channels
    product_channels: dict[str, dict[str, int]] | None = None
    # product -> tier (premium | mass), overriding the products file's tier
    product_tiers: dict[str, str] | None = None


@dataclass
class BaselineReport:
    seconds: dict[str, float] = field(default_factory=dict)
    rows_by_channel: dict[str, int] = field(default_factory=dict)
    rows_decided: int = 0


# --- reading landing files ----------------------------------------------------------------------

# source -> {column: type}; only what the decision needs. Types: varchar, timestamp, date,
# boolean, double.
SOURCES: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "varchar",
        "national_id": "varchar",
        "birth_date": "date",
        "occupation": "varchar",
        "income_band": "varchar",
        "home_branch_id": "varchar",
        "email_home": "varchar",
        "email_work": "varchar",
        "mobile_phone": "varchar",
        "home_address": "varchar",
        "work_address": "varchar",
        "updated_at": "timestamp",
    },
    "crm_customers": {
        "crm_id": "varchar",
        "national_id": "varchar",
        "email": "varchar",
        "mobile_phone": "varchar",
        "updated_at": "timestamp",
    },
    "products": {
        "product_id": "varchar",
        "category": "varchar",
        "tier": "varchar",
        "value": "double",
    },
    "holdings": {
        "customer_id": "varchar",
        "product_id": "varchar",
        "status": "varchar",
        "opened_at": "timestamp",
    },
    "campaigns": {"campaign_id": "varchar", "start_date": "date", "end_date": "date"},
    "offers": {
        "offer_id": "varchar",
        "campaign_id": "varchar",
        "product_id": "varchar",
        "channels": "varchar",
        "valid_from": "date",
        "valid_to": "date",
        "control_rate": "double",
        "cells": "varchar",
    },
    "contacts": {
        "contact_id": "varchar",
        "customer_id": "varchar",
        "offer_id": "varchar",
        "channel": "varchar",
        "contacted_at": "timestamp",
        "is_control": "boolean",
        "rep_id": "varchar",
        "branch_id": "varchar",
        "cell": "varchar",
    },
    "responses": {
        "response_id": "varchar",
        "customer_id": "varchar",
        "offer_id": "varchar",
        "channel": "varchar",
        "response_type": "varchar",
        "responded_at": "timestamp",
        "contact_id": "varchar",
    },
    "consents": {
        "customer_id": "varchar",
        "channel": "varchar",
        "status": "varchar",
        "recorded_at": "timestamp",
        "topic": "varchar",
    },
    "preferences": {
        "customer_id": "varchar",
        "key": "varchar",
        "value": "varchar",
        "recorded_at": "timestamp",
    },
    "complaints": {
        "complaint_id": "varchar",
        "customer_id": "varchar",
        "opened_at": "timestamp",
        "closed_at": "timestamp",
    },
    "reps": {"rep_id": "varchar", "branch_id": "varchar"},
}


@dataclass(frozen=True)
class Check:
    """A row rule of the landing contract (expectations/<source>.yml) on one column; a row that
    breaks one is rejected, as the loader quarantines it. Bounds: ISO text, a number, `today`
    or `now` (the loader allows one day ahead). `values` naming `config:<file>.<column>` take
    the codes of a configuration file; `pipe`: every element of a `|` list must be one."""

    type: str = "varchar"
    not_null: bool = False
    values: tuple[str, ...] | str = ()
    pipe: bool = False
    low: str | float | None = None
    high: str | float | None = None


CHANNEL_CODES = "config:channels.channel_code"
RESPONSE_TYPES = "config:response_types.response_type"
KEY = Check(not_null=True)
EVENT_TIME = Check("timestamp", not_null=True, low="1990-01-01", high="now")
# source -> column -> check, for every column with a rule (CONTRACTS.md, expectations/*.yml)
CHECKS: dict[str, dict[str, Check]] = {
    "customers": {
        "customer_id": KEY,
        "national_id": KEY,
        "birth_date": Check("date", low="1900-01-01", high="today"),
        "gender": Check(values=("F", "M", "X")),
        "updated_at": EVENT_TIME,
    },
    "crm_customers": {"crm_id": KEY, "updated_at": EVENT_TIME},
    "products": {
        "product_id": KEY,
        "product_name": KEY,
        "category": KEY,
        "tier": Check(not_null=True, values=("premium", "mass")),
        "value": Check("double", not_null=True, low=0),
    },
    "holdings": {
        "customer_id": KEY,
        "product_id": KEY,
        "status": Check(not_null=True, values=("active", "closed")),
        "opened_at": Check("timestamp", not_null=True, low="1900-01-01", high="now"),
        "closed_at": Check("timestamp", low="1900-01-01", high="now"),
    },
    "campaigns": {
        "campaign_id": KEY,
        "campaign_name": KEY,
        "start_date": Check("date", not_null=True, low="1990-01-01", high="2100-12-31"),
        "end_date": Check("date", not_null=True, low="1990-01-01", high="2100-12-31"),
    },
    "offers": {
        "offer_id": KEY,
        "campaign_id": KEY,
        "product_id": KEY,
        "offer_name": KEY,
        "channels": Check(not_null=True, values=CHANNEL_CODES, pipe=True),
        "valid_from": Check("date", not_null=True, low="1990-01-01", high="2100-12-31"),
        "valid_to": Check("date", not_null=True, low="1990-01-01", high="2100-12-31"),
        "control_rate": Check("double", low=0, high=1),
    },
    "contacts": {
        "contact_id": KEY,
        "customer_id": KEY,
        "offer_id": KEY,
        "channel": Check(not_null=True, values=CHANNEL_CODES),
        "contacted_at": EVENT_TIME,
        "is_control": Check("boolean"),
    },
    "responses": {
        "response_id": KEY,
        "customer_id": KEY,
        "offer_id": KEY,
        "channel": Check(not_null=True, values=CHANNEL_CODES),
        "response_type": Check(not_null=True, values=RESPONSE_TYPES),
        "responded_at": EVENT_TIME,
    },
    "consents": {
        "customer_id": KEY,
        "channel": Check(not_null=True, values=CHANNEL_CODES),
        "status": Check(not_null=True, values=("opt_in", "opt_out")),
        "recorded_at": EVENT_TIME,
    },
    "preferences": {
        "customer_id": KEY,
        "key": Check(not_null=True, values=("email_for_detailed", "email_for_short", "mail_to")),
        "value": Check(not_null=True, values=("home", "work")),
        "recorded_at": EVENT_TIME,
    },
    "complaints": {
        "complaint_id": KEY,
        "customer_id": KEY,
        "opened_at": EVENT_TIME,
        "closed_at": Check("timestamp", low="1990-01-01", high="now"),
    },
    "reps": {"rep_id": KEY, "rep_name": KEY, "branch_id": KEY},
}
ROW_RULES: dict[str, tuple[str, ...]] = {"offers": ("valid_to >= valid_from",)}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join(_quote(str(path)) for path in paths) + "]"


def _typed(column: str, sql_type: str, source_type: str | None) -> str:
    """`column` (of DuckDB type `source_type`, None = missing) as `sql_type`, as the loader types
    it: text is trimmed and parsed, timestamps with an offset become UTC, naive ones are UTC."""
    return f'{_typed_value(column, sql_type, source_type)} as "{column}"'


def _typed_value(column: str, sql_type: str, source_type: str | None) -> str:
    name = f'"{column}"'
    if source_type is None:
        return f"cast(null as {sql_type})"
    source = source_type.upper()
    if sql_type == "varchar":
        expression = name if source == "VARCHAR" else f"cast({name} as varchar)"
        return f"nullif({expression}, '')"
    if source != "VARCHAR":
        if sql_type == "timestamp" and source.startswith("TIMESTAMP"):
            return f"cast({name} as timestamp)"
        return f"cast({name} as {sql_type})"
    if sql_type == "timestamp":
        return f"cast(try_cast(trim({name}) as timestamptz) as timestamp)"
    if sql_type == "boolean":
        lowered = f"lower(trim({name}))"
        return (
            f"case when {lowered} in ('true', '1', 'yes') then true "
            f"when {lowered} in ('false', '0', 'no') then false end"
        )
    if sql_type == "double":
        number = f"try_cast(trim({name}) as double)"
        return f"case when isfinite({number}) then {number} end"
    return f"try_cast(trim({name}) as {sql_type})"


def _unparsed(column: str, sql_type: str, source_type: str | None) -> str:
    """True when a text value is there but does not parse as `sql_type` (rejected)."""
    if source_type is None or sql_type == "varchar" or source_type.upper() != "VARCHAR":
        return "false"
    typed = _typed_value(column, sql_type, source_type)
    return f"""(nullif(trim("{column}"), '') is not null and {typed} is null)"""


def _bound(bound: str | float, sql_type: str) -> str:
    if bound == "today":
        return "(current_date + 1)"
    if bound == "now":
        return "(cast(now() as timestamp) + interval 1 day)"
    if isinstance(bound, str):
        return f"cast({_quote(bound)} as {sql_type})"
    return repr(float(bound))


def _passes(column: str, check: Check, value_sets: dict[str, tuple[str, ...]]) -> str:
    """SQL true when the typed `column` passes `check` (nulls pass all but not_null)."""
    name = f'"{column}"'
    tests = [f"{name} is not null"] if check.not_null else []
    if check.values:
        values = value_sets[check.values] if isinstance(check.values, str) else check.values
        listed = "[" + ", ".join(_quote(value) for value in values) + "]"
        if check.pipe:
            outside = f"lambda item: not list_contains({listed}, item)"
            unknown = f"list_filter(string_split({name}, '|'), {outside})"
            tests.append(f"({name} is null or len({unknown}) = 0)")
        else:
            tests.append(f"({name} is null or list_contains({listed}, {name}))")
    if check.low is not None:
        tests.append(f"({name} is null or {name} >= {_bound(check.low, check.type)})")
    if check.high is not None:
        tests.append(f"({name} is null or {name} <= {_bound(check.high, check.type)})")
    return " and ".join(tests) or "true"


def _reader(kind: str, files: Sequence[Path], columns: dict[str, str]) -> str:
    listed = _file_list(files)
    if kind == "parquet":
        return (
            f"read_parquet({listed}, union_by_name = true, filename = true, file_row_number = true)"
        )
    if kind == "json":
        spec = ", ".join(f"{_quote(name)}: 'VARCHAR'" for name in columns)
        return (
            f"read_json({listed}, format = 'newline_delimited', columns = {{{spec}}}, "
            "filename = true)"
        )
    return (
        f"read_csv({listed}, all_varchar = true, union_by_name = true, header = true, "
        "filename = true)"
    )


def scan(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    source: str,
    value_sets: dict[str, tuple[str, ...]] | None = None,
) -> str:
    """A SQL subquery over every landing file of `source`, with the needed columns typed, plus
    `_file` and `_row` (load order: later file, later row wins). With `value_sets` (the codes
    of `config:` checks), rows that break the contract's row checks are left out."""
    checks = CHECKS.get(source, {}) if value_sets is not None else {}
    columns = {**SOURCES[source], **{name: check.type for name, check in checks.items()}}
    folder = landing_dir / source
    groups: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name.startswith((".", "_")) or not path.is_file():
            continue
        if path.name.endswith(".csv.gz") or path.suffix in (".csv", ".jsonl", ".parquet"):
            groups.setdefault(EXTENSIONS[path.suffix], []).append(path)
    if not groups:
        empty = ", ".join(_typed(name, kind, None) for name, kind in columns.items())
        return f"(select {empty}, '' as _file, 0 as _row where false)"
    parts = []
    for kind, files in groups.items():
        reader = _reader(kind, files, columns)
        described = con.execute(f"describe select * from {reader}").fetchall()
        types = {str(row[0]).strip().lower(): str(row[1]) for row in described}
        names = {str(row[0]): str(row[0]).strip().lower() for row in described}
        renamed = ", ".join(f'"{raw}" as "{clean}"' for raw, clean in names.items())
        typed = ", ".join(_typed(name, kind_, types.get(name)) for name, kind_ in columns.items())
        unparsed = " or ".join(
            _unparsed(name, kind_, types.get(name)) for name, kind_ in columns.items()
        )
        row = "file_row_number" if kind == "parquet" else "0"
        parts.append(
            f"select {typed}, filename as _file, {row} as _row, {unparsed} as _unparsed "
            f"from (select {renamed} from {reader})"
        )
    rows = " union all by name ".join(parts)
    if not checks:
        return f"(select * exclude (_unparsed) from ({rows}))"
    valid = " and ".join(
        [
            "not _unparsed",
            *(_passes(name, check, value_sets or {}) for name, check in checks.items()),
            *(f"coalesce({rule}, true)" for rule in ROW_RULES.get(source, ())),
        ]
    )
    return f"(select * exclude (_unparsed) from ({rows}) where {valid})"


# --- the decision ------------------------------------------------------------------------------


def _code(expr: str) -> str:
    return f"nullif(lower(trim({expr})), '')"


def _text(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


def _phone(expr: str) -> str:
    digits = f"regexp_replace({expr}, '[^0-9]', '', 'g')"
    return (
        f"nullif(case when {digits} like '00%' then substr({digits}, 3) "
        f"when {digits} like '0%' then '32' || substr({digits}, 2) else {digits} end, '')"
    )


def _identifier(expr: str) -> str:
    return f"nullif(regexp_replace(upper({expr}), '[^0-9A-Za-z]', '', 'g'), '')"


def _bucket(expr: str, buckets: str) -> str:
    return f"cast(cast(('0x' || substr(md5({expr}), 1, 8)) as ubigint) % ({buckets}) as integer)"


def _age(birth: str, as_of: str) -> str:
    return (
        f"(year({as_of}) - year({birth}) - case when month({as_of}) * 100 + day({as_of}) "
        f"< month({birth}) * 100 + day({birth}) then 1 else 0 end)"
    )


def _pipe_contains(items: str, value: str) -> str:
    return f"('|' || {items} || '|' like '%|' || {value} || '|%')"


def _email(message_kind: str) -> str:
    """The e-mail address the customer's preference picks for this kind of message."""
    preference = (
        f"case when {message_kind} = 'short' then reach.email_for_short "
        "else reach.email_for_detailed end"
    )
    return (
        f"(case when ({preference}) = 'work' then coalesce(reach.email_work, reach.email_home) "
        "else coalesce(reach.email_home, reach.email_work) end)"
    )


def _postal_address() -> str:
    return (
        "(case when reach.mail_to = 'work' "
        "then coalesce(reach.work_address, reach.home_address) "
        "else coalesce(reach.home_address, reach.work_address) end)"
    )


def _latest(
    table: str, columns: str, source: str, *, keys: str, order: str = "", drop: str = ""
) -> str:
    """`create table <table>`: the latest row per key (a later row for the same key is an
    update; ties go to the later file, then the later row). Almost every key occurs once, so
    only the repeated keys go through a window: far cheaper than a window over every row."""
    ordering = ", ".join(part for part in (order, "_file desc", "_row desc") if part)
    excluded = ", ".join(part for part in ("_file", "_row", drop) if part)
    return f"""create table {table} as
        with versions as materialized (
            select {columns}, _file, _row from {source}
        ),
        repeated as (
            select {keys} from versions group by {keys} having count(*) > 1
        )
        select * exclude ({excluded}) from versions anti join repeated using ({keys})
        union all
        select * exclude ({excluded}) from (
            select * from versions semi join repeated using ({keys})
            qualify row_number() over (partition by {keys} order by {ordering}) = 1
        )"""


def load_sources(con: duckdb.DuckDBPyConnection, landing_dir: Path, config_dir: Path) -> None:
    """Read, normalise and deduplicate what the decision needs (the latest row per key)."""
    value_sets = {
        name: tuple(
            str(row[0])
            for row in con.execute(
                f"select distinct {column} from "
                f"read_csv({_quote(str(config_dir / (table + '.csv')))}, header = true, "
                "all_varchar = true) order by 1"
            ).fetchall()
        )
        for name in (CHANNEL_CODES, RESPONSE_TYPES)
        for table, column in [name.removeprefix("config:").split(".")]
    }
    src = {source: scan(con, landing_dir, source, value_sets) for source in SOURCES}
    config = {
        name: f"read_csv({_quote(str(config_dir / (name + '.csv')))}, header = true)"
        for name in ("segments", "product_paths", "channels", "response_types")
    }
    statements = [
        f"""create table segments as
            select {_code("segment_code")} as segment_code, priority, age_min, age_max,
                {_code("income_bands")} as income_bands, {_code("occupations")} as occupations
            from {config["segments"]}""",
        f"""create table product_paths as
            select {_code("segment_code")} as segment_code, trim(product_id) as product_id
            from {config["product_paths"]}""",
        f"""create table channels as
            select {_code("channel_code")} as channel_code,
                coalesce(cast(requires_opt_in as boolean), false) as requires_opt_in,
                {_code("contact_fields")} as contact_fields,
                {_code("message_kind")} as message_kind,
                cast(daily_capacity as bigint) as daily_capacity,
                cast(cost_per_contact as double) as cost_per_contact,
                -- one bit per channel: per-customer channel sets become integers
                cast(1 as bigint) << cast(row_number() over (order by channel_code) - 1 as int)
                    as channel_bit
            from {config["channels"]}""",
        f"""create table response_types as
            select {_code("response_type")} as response_type,
                {_code("response_class")} as response_class
            from {config["response_types"]}""",
        f"""create table hard_types as
            select {_code("response_type")} as response_type
            from {config["response_types"]}
            where {_code("response_class")} = 'hard'""",
        f"""create table negative_types as
            select {_code("response_type")} as response_type
            from {config["response_types"]}
            where {_code("response_class")} = 'negative'""",
        _latest(
            "customers",
            f"""trim(customer_id) as customer_id, {_identifier("national_id")} as national_id,
                birth_date, {_code("occupation")} as occupation,
                {_code("income_band")} as income_band,
                {_text("home_branch_id")} as home_branch_id,
                {_code("email_home")} as email_home, {_code("email_work")} as email_work,
                {_phone("mobile_phone")} as mobile_phone,
                {_text("home_address")} as home_address, {_text("work_address")} as work_address,
                updated_at""",
            src["customers"],
            keys="customer_id",
            order="updated_at desc",
            drop="updated_at",
        ),
        _latest(
            "crm_customers",
            f"""trim(crm_id) as crm_id, {_identifier("national_id")} as national_id,
                {_code("email")} as email, {_phone("mobile_phone")} as mobile_phone, updated_at""",
            src["crm_customers"],
            keys="crm_id",
            order="updated_at desc",
        ),
        _latest(
            "products",
            f"""trim(product_id) as product_id, {_code("category")} as category,
                {_code("tier")} as tier, value as product_value""",
            src["products"],
            keys="product_id",
        ),
        _latest(
            "campaigns",
            "trim(campaign_id) as campaign_id, start_date, end_date",
            src["campaigns"],
            keys="campaign_id",
        ),
        _latest(
            "offers",
            f"""trim(offer_id) as offer_id, trim(campaign_id) as campaign_id,
                trim(product_id) as product_id,
                {_code("replace(channels, ' ', '')")} as channels,
                coalesce(nullif(replace(trim(cells), ' ', ''), ''), 'A') as cells,
                control_rate, valid_from, valid_to""",
            src["offers"],
            keys="offer_id",
        ),
        _latest(
            "holdings",
            f"""trim(customer_id) as customer_id, trim(product_id) as product_id,
                {_code("status")} = 'active' as is_active, opened_at""",
            src["holdings"],
            keys="customer_id, product_id, opened_at",
        ),
        _latest(
            "contacts",
            f"""trim(contact_id) as contact_id, trim(customer_id) as customer_id,
                trim(offer_id) as offer_id, {_code("channel")} as channel,
                {_text("rep_id")} as rep_id, coalesce(is_control, false) as is_control,
                contacted_at""",
            src["contacts"],
            keys="contact_id",
            order="contacted_at desc",
        ),
        _latest(
            "responses",
            f"""trim(response_id) as response_id, trim(customer_id) as customer_id,
                trim(offer_id) as offer_id, {_code("channel")} as channel,
                {_code("response_type")} as response_type, {_text("contact_id")} as contact_id,
                responded_at""",
            src["responses"],
            keys="response_id",
            order="responded_at desc",
        ),
        f"""create table consent_events as
            select trim(customer_id) as customer_id, {_code("channel")} as channel,
                coalesce({_code("topic")}, 'all') as topic, {_code("status")} as status,
                recorded_at, _file, _row
            from {src["consents"]}""",
        f"""create table preference_events as
            select trim(customer_id) as customer_id, {_code("key")} as preference_key,
                {_code("value")} as preference_value, recorded_at, _file, _row
            from {src["preferences"]}""",
        _latest(
            "complaints",
            "trim(complaint_id) as complaint_id, trim(customer_id) as customer_id, "
            "opened_at, closed_at",
            src["complaints"],
            keys="complaint_id",
        ),
        _latest(
            "reps",
            "trim(rep_id) as rep_id, trim(branch_id) as branch_id",
            src["reps"],
            keys="rep_id",
        ),
    ]
    for statement in statements:
        con.execute(statement)


def _config_rows(config_dir: Path, name: str) -> list[dict[str, str]]:
    """The rows of an optional configuration CSV (none when the file is absent)."""
    path = config_dir / f"{name}.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [
            {key.strip(): (value or "").strip() for key, value in row.items() if key}
            for row in csv.DictReader(handle)
        ]


def _policy_value(name: str, value: object) -> int | bool | None:
    if value is None or value == "":
        return None
    if name == "suppress_while_complaint_open":
        if isinstance(value, str):
            return value.strip().lower() in ("true", "t", "1", "yes", "y", "on")
        return bool(value)
    return int(str(value))


def resolved_policies(
    rules: Rules, config_dir: Path, channels: Sequence[str]
) -> dict[str, dict[str, int | bool | None]]:
    """channel -> its contact policy: its own row, empty cells from the `default` row (no row:
    the `default` row); no cap where neither sets one, complaints suppress unless set false."""
    raw = rules.contact_policies
    if raw is None:
        raw = {
            row["channel_code"].lower(): {name: row.get(name) for name in POLICY_FIELDS}
            for row in _config_rows(config_dir, "contact_policies")
        }
    base = raw.get("default", {})
    resolved: dict[str, dict[str, int | bool | None]] = {}
    for channel in channels:
        own = raw.get(channel, base)
        policy = {}
        for name in POLICY_FIELDS:
            value = _policy_value(name, own.get(name))
            policy[name] = _policy_value(name, base.get(name)) if value is None else value
        policy["decline_cooldown_days"] = policy["decline_cooldown_days"] or 0
        policy["min_days_between_same_product"] = policy["min_days_between_same_product"] or 0
        if policy["suppress_while_complaint_open"] is None:
            policy["suppress_while_complaint_open"] = True
        resolved[channel] = policy
    return resolved


def _values_table(name: str, columns: dict[str, str], rows: Sequence[Sequence[object]]) -> str:
    """`create table <name>` from literal rows (None = null), typed by `columns`."""

    def literal(value: object, sql_type: str) -> str:
        if value is None:
            return f"cast(null as {sql_type})"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return f"cast({value!r} as {sql_type})"
        return f"cast({_quote(str(value))} as {sql_type})"

    names = ", ".join(columns)
    if not rows:
        typed = ", ".join(f"cast(null as {kind}) as {column}" for column, kind in columns.items())
        return f"create table {name} as select {typed} where false"
    values = ", ".join(
        "("
        + ", ".join(literal(value, kind) for value, kind in zip(row, columns.values(), strict=True))
        + ")"
        for row in rows
    )
    return f"create table {name} as select * from (values {values}) as rows({names})"


def config_tables(con: duckdb.DuckDBPyConnection, rules: Rules, config_dir: Path) -> None:
    """Tables `policies` (every channel's resolved contact policy), `product_channels` and
    `product_tiers`, from the rules or else the configuration folder's CSVs."""
    channels = [str(row[0]) for row in con.execute("select channel_code from channels").fetchall()]
    policies = resolved_policies(rules, config_dir, channels)
    product_channels = rules.product_channels
    if product_channels is None:
        product_channels = {}
        for row in _config_rows(config_dir, "product_channels"):
            orders = product_channels.setdefault(row["product_id"], {})
            orders[row["channel_code"].lower()] = int(row["channel_order"])
    product_tiers = rules.product_tiers
    if product_tiers is None:
        product_tiers = {
            row["product_id"]: row["tier"].lower()
            for row in _config_rows(config_dir, "product_tiers")
        }
    statements = [
        _values_table(
            "policies",
            {
                "channel": "varchar",
                "max_contacts_7d": "integer",
                "max_contacts_30d": "integer",
                "decline_cooldown_days": "integer",
                "suppress_while_complaint_open": "boolean",
                "min_days_between_same_product": "integer",
            },
            [
                (channel, *(policy[name] for name in POLICY_FIELDS))
                for channel, policy in sorted(policies.items())
            ],
        ),
        _values_table(
            "product_channels",
            {"product_id": "varchar", "channel": "varchar", "channel_order": "integer"},
            [
                (product.strip(), channel.strip().lower(), order)
                for product, orders in sorted(product_channels.items())
                for channel, order in sorted(orders.items())
            ],
        ),
        _values_table(
            "product_tiers",
            {"product_id": "varchar", "tier": "varchar"},
            [(product.strip(), tier.strip().lower()) for product, tier in product_tiers.items()],
        ),
    ]
    for statement in statements:
        con.execute(statement)


# rounds of expectation-maximisation of the lag rates (as int_response_attributed)
ATTRIBUTION_ROUNDS = 8


def _lag_rate_rounds(candidates: str, rounds: int) -> str:
    """CTEs rates_1..rates_<rounds>: the hard/soft/... response rate per contact-day at each
    lag and arm; each round shares a matched response among its candidates in proportion to
    the previous round's rates (equal shares in the first), adds the certain responses and
    divides by the exposure (needs CTEs `certain` and `exposure`)."""
    ctes = []
    for step in range(1, rounds + 1):
        if step == 1:
            share = "1.0 / count(*) over (partition by candidate.response_id)"
            joined = f"{candidates} as candidate"
        else:
            share = (
                "previous.response_rate "
                "/ sum(previous.response_rate) over (partition by candidate.response_id)"
            )
            joined = (
                f"{candidates} as candidate inner join rates_{step - 1} as previous "
                "on candidate.response_class = previous.response_class "
                "and candidate.is_control = previous.is_control "
                "and candidate.lag_days = previous.lag_days"
            )
        ctes.append(
            f"""shared_{step} as (
                select candidate.response_class, candidate.is_control, candidate.lag_days,
                    {share} as share
                from {joined}
            ),
            rates_{step} as (
                select counts.response_class, counts.is_control, counts.lag_days,
                    sum(counts.n_responses) / max(exposure.contact_days) as response_rate
                from (
                    select response_class, is_control, lag_days, sum(share) as n_responses
                    from shared_{step} group by all
                    union all
                    select response_class, is_control, lag_days, n_responses from certain
                ) as counts
                inner join exposure
                    on counts.is_control = exposure.is_control
                    and counts.lag_days = exposure.lag_days
                group by all
            ),"""
        )
    return "\n            ".join(ctes)


def decide(
    con: duckdb.DuckDBPyConnection,
    run_date: dt.date,
    rules: Rules,
    candidates_out: Path | None = None,
) -> int:
    """Compute table `nbo`: the offers arbitration selects per customer, each on the channel
    it was placed on (control offers on their best channel). Needs the tables of
    `load_sources` and `config_tables`. With `candidates_out`, also write every
    (customer_id, offer_id, channel) that passes every rule before arbitration there
    (Parquet): what any arbitration may choose from."""
    day = f"date '{run_date.isoformat()}'"
    day_end = f"({day} + interval 1 day)"
    window = f"interval ({rules.attribution_window_days}) day"
    suppression_start = f"({day} - interval ({rules.response_suppression_days}) day)"
    rule_match = (
        "(segments.age_min is null or ages.age >= segments.age_min) "
        "and (segments.age_max is null or ages.age <= segments.age_max) "
        "and (segments.income_bands is null or "
        f"{_pipe_contains('segments.income_bands', 'ages.income_band')}) "
        "and (segments.occupations is null or "
        f"{_pipe_contains('segments.occupations', 'ages.occupation')})"
    )
    cell_bucket = _bucket(
        "customer_id || '|' || campaign_id || '|cell'",
        "length(cells) - length(replace(cells, '|', '')) + 1",
    )
    longest_spacing = int(
        con.execute(
            "select coalesce(max(min_days_between_same_product), 0) from policies"
        ).fetchone()[0]  # type: ignore[index]
    )
    statements = [
        # (age, income band, occupation) -> segment: a small lookup instead of a rule join per row
        f"""create table segment_lookup as
            with ages as (
                select distinct range as age, income_band, occupation
                from (select distinct income_band, occupation from customers)
                cross join range(0, 151)
            )
            select ages.age, ages.income_band, ages.occupation,
                arg_min(segments.segment_code, segments.priority) as segment_code
            from ages inner join segments on {rule_match}
            group by all""",
        f"""create table customer_segments as
            select customers.customer_id, segment_lookup.segment_code
            from customers
            inner join segment_lookup
                on segment_lookup.age = {_age("customers.birth_date", day)}
                and segment_lookup.income_band is not distinct from customers.income_band
                and segment_lookup.occupation is not distinct from customers.occupation""",
        # CRM records matched to one core customer: national id, else e-mail, else phone
        """create table crm_matches as
            with core_ids as (
                select customer_id, 1 as rule_order, national_id as identifier from customers
                where national_id is not null
                union
                select customer_id, 2, email_home from customers where email_home is not null
                union
                select customer_id, 2, email_work from customers where email_work is not null
                union
                select customer_id, 3, mobile_phone from customers where mobile_phone is not null
            ),
            crm_ids as (
                select crm_id, 1 as rule_order, national_id as identifier from crm_customers
                where national_id is not null
                union all
                select crm_id, 2, email from crm_customers where email is not null
                union all
                select crm_id, 3, mobile_phone from crm_customers where mobile_phone is not null
            ),
            candidates as (
                select crm_ids.crm_id, crm_ids.rule_order,
                    min(core_ids.customer_id) as customer_id
                from crm_ids
                inner join core_ids using (rule_order, identifier)
                group by all
                having count(distinct core_ids.customer_id) = 1
            )
            select crm_id, arg_min(customer_id, rule_order) as customer_id
            from candidates group by crm_id""",
        """create table crm_fill as
            select crm_matches.customer_id,
                first(crm.email order by crm.updated_at desc, crm.crm_id)
                    filter (where crm.email is not null) as crm_email,
                first(crm.mobile_phone order by crm.updated_at desc, crm.crm_id)
                    filter (where crm.mobile_phone is not null) as crm_mobile_phone
            from crm_matches inner join crm_customers as crm using (crm_id)
            group by crm_matches.customer_id""",
        f"""create table preferences as
            with latest as (
                select customer_id, preference_key, preference_value
                from preference_events
                where recorded_at < {day_end}
                qualify row_number() over (
                    partition by customer_id, preference_key
                    order by recorded_at desc, _file desc, _row desc
                ) = 1
            )
            select customer_id,
                max(preference_value) filter (where preference_key = 'email_for_detailed')
                    as email_for_detailed,
                max(preference_value) filter (where preference_key = 'email_for_short')
                    as email_for_short,
                max(preference_value) filter (where preference_key = 'mail_to') as mail_to
            from latest group by customer_id""",
        # the customer's rep: last contact by a rep of the home branch, else a hash pick
        f"""create table customer_reps as
            with last_contact as (
                select customers.customer_id,
                    arg_max(contacts.rep_id, (contacts.contacted_at, contacts.contact_id))
                        as rep_id
                from contacts
                inner join customers using (customer_id)
                inner join reps
                    on contacts.rep_id = reps.rep_id
                    and customers.home_branch_id = reps.branch_id
                where contacts.rep_id is not null and contacts.contacted_at < {day_end}
                group by customers.customer_id
            ),
            branch_reps as (
                select rep_id, branch_id,
                    row_number() over (partition by branch_id order by rep_id) - 1 as rep_index,
                    count(*) over (partition by branch_id) as n_reps
                from reps
            ),
            hashed as (
                select customers.customer_id, branch_reps.rep_id
                from customers
                inner join branch_reps
                    on customers.home_branch_id = branch_reps.branch_id
                    and branch_reps.rep_index
                        = {_bucket("customers.customer_id", "branch_reps.n_reps")}
            )
            select customers.customer_id,
                coalesce(last_contact.rep_id, hashed.rep_id) as rep_id
            from customers
            left join last_contact using (customer_id)
            left join hashed using (customer_id)""",
        """create table reach as
            select customers.customer_id, customers.home_branch_id, customer_reps.rep_id,
                coalesce(
                    customers.email_home,
                    case when crm_fill.crm_email <> coalesce(customers.email_work, '')
                        then crm_fill.crm_email end
                ) as email_home,
                customers.email_work,
                '+' || coalesce(customers.mobile_phone, crm_fill.crm_mobile_phone)
                    as mobile_phone,
                customers.home_address, customers.work_address,
                coalesce(preferences.email_for_detailed, 'home') as email_for_detailed,
                coalesce(preferences.email_for_short, 'home') as email_for_short,
                coalesce(preferences.mail_to, 'home') as mail_to
            from customers
            left join crm_fill using (customer_id)
            left join preferences using (customer_id)
            left join customer_reps using (customer_id)""",
        # propensity: hard-response rate per (segment at contact, product, channel), smoothed
        # attribution as int_response_attributed: the given contact if valid, else a draw among
        # the candidates in the window (treated on the response's channel first), weighted by
        # the response rate per contact-day at the candidate's lag (class and arm), estimated
        # by expectation-maximisation over the certain and the matched responses
        f"""create table hard_contacts as
            with classified as (
                select responses.response_id, responses.customer_id, responses.offer_id,
                    responses.contact_id as given_contact_id, responses.channel,
                    responses.responded_at,
                    coalesce(response_types.response_class, 'unclassified') as response_class
                from responses left join response_types using (response_type)
            ),
            given as (
                select classified.response_id, classified.response_class,
                    contacts.contact_id, contacts.is_control,
                    floor(date_diff('second', contacts.contacted_at, classified.responded_at)
                        / 86400.0) as lag_days
                from classified
                inner join contacts
                    on classified.given_contact_id = contacts.contact_id
                    and contacts.customer_id = classified.customer_id
                    and contacts.offer_id = classified.offer_id
                    and contacts.contacted_at <= classified.responded_at
                    and classified.responded_at <= contacts.contacted_at + {window}
            ),
            preferred as (
                select classified.response_id, classified.response_class,
                    contacts.contact_id, contacts.is_control,
                    floor(date_diff('second', contacts.contacted_at, classified.responded_at)
                        / 86400.0) as lag_days,
                    case when contacts.channel = classified.channel and not contacts.is_control
                        then 0 else 1 end as preference
                from classified
                inner join contacts
                    on classified.customer_id = contacts.customer_id
                    and classified.offer_id = contacts.offer_id
                    and contacts.contacted_at <= classified.responded_at
                    and contacts.contacted_at >= classified.responded_at - {window}
                where classified.response_id not in (select response_id from given)
            ),
            counted as (
                select * from preferred
                qualify preference = min(preference) over (partition by response_id)
            ),
            certain as (
                select response_class, is_control, lag_days, count(*) as n_responses
                from given group by all
            ),
            ages as (
                select is_control, floor(age_days) as whole_days, count(*) as n_contacts,
                    sum(age_days - floor(age_days)) as partial_days
                from (
                    select is_control,
                        date_diff('second', contacted_at,
                            (select max(responded_at) from responses)) / 86400.0 as age_days
                    from contacts
                )
                where age_days > 0
                group by all
            ),
            exposure as (
                select lags.is_control, lags.lag_days,
                    sum(case when ages.whole_days > lags.lag_days then ages.n_contacts
                        else ages.partial_days end) as contact_days
                from (
                    select is_control, lag_days from counted
                    union select is_control, lag_days from certain
                ) as lags
                inner join ages
                    on lags.is_control = ages.is_control and ages.whole_days >= lags.lag_days
                group by all
            ),
            {_lag_rate_rounds("counted", ATTRIBUTION_ROUNDS)}
            weighted as (
                select counted.response_id, counted.contact_id,
                    1 + cast(round(coalesce(rates.response_rate, 0) * 1e9) as bigint) as weight
                from counted
                left join rates_{ATTRIBUTION_ROUNDS} as rates
                    on counted.response_class = rates.response_class
                    and counted.is_control = rates.is_control
                    and counted.lag_days = rates.lag_days
            ),
            stacked as (
                select response_id, contact_id, weight,
                    sum(weight) over (
                        partition by response_id order by contact_id
                        rows between unbounded preceding and current row
                    ) as weight_through,
                    sum(weight) over (partition by response_id) as weight_total,
                    cast({_bucket("response_id", "1048576")} as double) / 1048576 as draw
                from weighted
            ),
            attributed as (
                select response_id, contact_id from given
                union all
                select response_id, contact_id from stacked
                where draw * weight_total >= weight_through - weight
                    and draw * weight_total < weight_through
            )
            select distinct attributed.contact_id
            from attributed
            inner join responses using (response_id)
            inner join hard_types using (response_type)
            where responses.responded_at < {day_end}""",
        f"""create table propensities as
            with treated as (
                select segment_lookup.segment_code, offers.product_id, contacts.channel,
                    hard_contacts.contact_id is not null as is_hard
                from contacts
                inner join customers using (customer_id)
                inner join segment_lookup
                    on segment_lookup.age
                        = {_age("customers.birth_date", "cast(contacts.contacted_at as date)")}
                    and segment_lookup.income_band is not distinct from customers.income_band
                    and segment_lookup.occupation is not distinct from customers.occupation
                inner join offers on contacts.offer_id = offers.offer_id
                left join hard_contacts on contacts.contact_id = hard_contacts.contact_id
                where not contacts.is_control and contacts.contacted_at < {day_end}
            ),
            history as (
                select segment_code, product_id, channel, count(*) as n_treated,
                    count(*) filter (where is_hard) as n_hard
                from treated group by all
            ),
            overall as (
                select coalesce(sum(n_hard) / nullif(sum(n_treated), 0), 0) as rate from history
            )
            select product_paths.segment_code, product_paths.product_id,
                channels.channel_code as channel,
                (coalesce(history.n_hard, 0) + {rules.propensity_prior_contacts} * overall.rate)
                    / nullif(coalesce(history.n_treated, 0)
                        + {rules.propensity_prior_contacts}, 0) as propensity
            from product_paths
            cross join channels
            cross join overall
            left join history
                on history.segment_code = product_paths.segment_code
                and history.product_id = product_paths.product_id
                and history.channel = channels.channel_code""",
        f"""create table recent_responses as
            select distinct customer_id, offer_id from responses
            where responded_at < {day_end} and responded_at >= {suppression_start}""",
        # contact policies: treated contacts per customer and channel in the 7 and 30 days
        # that end with the run date (its own contacts are not in yet: d = 1..6 and 1..29 days
        # before it), the last treated contact of each product (any channel) and the last
        # decline of each product (a negative response to any of its offers, any channel)
        f"""create table contact_counts as
            select customer_id, channel,
                count(*) filter (where days_ago <= 6) as n_contacts_7d,
                count(*) as n_contacts_30d
            from (
                select customer_id, channel, {day} - cast(contacted_at as date) as days_ago
                from contacts
                where not is_control
                    and contacted_at < {day} and contacted_at >= {day} - interval 29 day
            )
            group by all""",
        f"""create table product_contacts as
            select contacts.customer_id, offers.product_id,
                min({day} - cast(contacts.contacted_at as date)) as days_since_product_contact
            from contacts
            inner join offers using (offer_id)
            where not contacts.is_control and contacts.contacted_at < {day}
                and contacts.contacted_at
                    >= {day} - interval ({max(longest_spacing, 1)}) day
            group by all""",
        f"""create table last_declines as
            select responses.customer_id, offers.product_id,
                {day} - max(cast(responses.responded_at as date)) as days_since_decline
            from responses
            inner join negative_types using (response_type)
            inner join offers using (offer_id)
            where responses.responded_at < {day_end}
            group by all""",
        f"""create table complaining as
            select distinct customer_id from complaints
            where opened_at < {day_end} and (closed_at is null or closed_at >= {day_end})""",
        # inputs no longer needed: free their memory before the big join
        "drop table contacts",
        "drop table responses",
        "drop table hard_contacts",
        "drop table customers",
        "drop table crm_customers",
        "drop table crm_matches",
        "drop table crm_fill",
        "drop table preference_events",
        # the offers live today on each of their channels that the product's channel rules
        # allow (a product without rules: every channel of the offer), with what a row needs
        f"""create table offer_channels as
            select offers.offer_id, offers.campaign_id, offers.product_id,
                products.category, products.product_value,
                coalesce(product_tiers.tier, products.tier) as tier, offers.cells,
                coalesce(offers.control_rate, {rules.default_control_rate}) as control_rate,
                channels.channel_code as channel, channels.requires_opt_in,
                channels.channel_bit, channels.cost_per_contact, product_channels.channel_order
            from offers
            inner join campaigns using (campaign_id)
            inner join products using (product_id)
            inner join channels on {_pipe_contains("offers.channels", "channels.channel_code")}
            left join product_tiers using (product_id)
            left join product_channels
                on offers.product_id = product_channels.product_id
                and channels.channel_code = product_channels.channel
            where offers.valid_from <= {day} and offers.valid_to >= {day}
                and campaigns.start_date <= {day} and campaigns.end_date >= {day}
                and (product_channels.channel is not null
                    or offers.product_id not in (select product_id from product_channels))""",
        f"""create table consents as
            select customer_id, channel, topic, status
            from consent_events
            where recorded_at < {day_end}
            qualify row_number() over (
                partition by customer_id, channel, topic
                order by recorded_at desc, _file desc, _row desc
            ) = 1""",
        "drop table consent_events",
        # per customer, as channel bit sets: the channels with the contact fields they need
        # (reachable) minus the ones opted out for topic `all`, at their 7- or 30-day cap, or
        # suppressed by an open complaint; and the explicit opt-ins
        f"""create table customer_masks as
            with reachable as (
                select reach.customer_id, bit_or(channels.channel_bit) as reach_mask
                from reach
                cross join channels
                where channels.contact_fields is null or (
                    (not {_pipe_contains("channels.contact_fields", "'email'")}
                        or {_email("channels.message_kind")} is not null)
                    and (not {_pipe_contains("channels.contact_fields", "'mobile_phone'")}
                        or reach.mobile_phone is not null)
                    and (not {_pipe_contains("channels.contact_fields", "'postal_address'")}
                        or {_postal_address()} is not null)
                    and (not {_pipe_contains("channels.contact_fields", "'home_branch_id'")}
                        or reach.home_branch_id is not null)
                    and (not {_pipe_contains("channels.contact_fields", "'rep_id'")}
                        or reach.rep_id is not null)
                )
                group by reach.customer_id
            ),
            consent_all as (
                select consents.customer_id,
                    bit_or(channels.channel_bit) filter (where consents.status = 'opt_out')
                        as out_mask,
                    bit_or(channels.channel_bit) filter (where consents.status = 'opt_in')
                        as in_mask
                from consents
                inner join channels on consents.channel = channels.channel_code
                where consents.topic = 'all'
                group by consents.customer_id
            ),
            capped as (
                select contact_counts.customer_id, bit_or(channels.channel_bit) as capped_mask
                from contact_counts
                inner join channels on contact_counts.channel = channels.channel_code
                inner join policies on contact_counts.channel = policies.channel
                where contact_counts.n_contacts_7d >= policies.max_contacts_7d
                    or contact_counts.n_contacts_30d >= policies.max_contacts_30d
                group by contact_counts.customer_id
            ),
            complaint_mask as (
                select coalesce(bit_or(channels.channel_bit), 0) as mask
                from channels inner join policies on channels.channel_code = policies.channel
                where policies.suppress_while_complaint_open
            )
            select reachable.customer_id,
                reachable.reach_mask & ~coalesce(consent_all.out_mask, 0)
                    & ~coalesce(capped.capped_mask, 0)
                    & ~(case when complaining.customer_id is null then 0
                        else complaint_mask.mask end) as allowed_mask,
                coalesce(consent_all.in_mask, 0) as opt_in_mask
            from reachable
            cross join complaint_mask
            left join consent_all using (customer_id)
            left join capped using (customer_id)
            left join complaining using (customer_id)""",
        # every (customer, offer, channel) that passes every rule, with its score and the
        # contacts its channel may still take today for the customer (null = no cap)
        f"""create table candidates as
            with eligible_products as (
                select customer_segments.customer_id, customer_segments.segment_code,
                    product_paths.product_id, customer_masks.allowed_mask,
                    customer_masks.opt_in_mask
                from customer_segments
                inner join customer_masks using (customer_id)
                inner join product_paths using (segment_code)
                anti join (
                    select customer_id, product_id from holdings
                    where is_active and opened_at < {day_end}
                ) as held using (customer_id, product_id)
            ),
            customer_offers as (
                select eligible_products.*, live_offers.offer_id
                from eligible_products
                inner join (select distinct offer_id, product_id from offer_channels)
                    as live_offers using (product_id)
                anti join recent_responses using (customer_id, offer_id)
            ),
            expanded as (
                select customer_offers.customer_id, customer_offers.segment_code,
                    customer_offers.opt_in_mask, offer_channels.*
                from customer_offers
                inner join offer_channels using (offer_id)
                where (customer_offers.allowed_mask & offer_channels.channel_bit) <> 0
            ),
            allowed as (
                select expanded.*
                from expanded
                left join (select * from consents where topic <> 'all') as consent_topic
                    on expanded.customer_id = consent_topic.customer_id
                    and expanded.channel = consent_topic.channel
                    and expanded.category = consent_topic.topic
                where coalesce(consent_topic.status, 'none') <> 'opt_out'
                    and (not expanded.requires_opt_in
                        or (expanded.opt_in_mask & expanded.channel_bit) <> 0
                        or consent_topic.status = 'opt_in')
            )
            select allowed.customer_id, allowed.offer_id, allowed.channel,
                allowed.campaign_id, allowed.product_id, allowed.tier, allowed.channel_order,
                allowed.cells, allowed.control_rate,
                power(propensities.propensity, {float(rules.propensity_weight)!r})
                    * power(coalesce(allowed.product_value, 0), {float(rules.value_weight)!r})
                    - {float(rules.cost_weight)!r} * coalesce(allowed.cost_per_contact, 0)
                    as score,
                case
                    when policies.max_contacts_7d is null and policies.max_contacts_30d is null
                        then null
                    else least(
                        policies.max_contacts_7d - coalesce(contact_counts.n_contacts_7d, 0),
                        policies.max_contacts_30d - coalesce(contact_counts.n_contacts_30d, 0)
                    )
                end as contacts_left_today
            from allowed
            inner join propensities using (segment_code, product_id, channel)
            inner join policies using (channel)
            left join contact_counts using (customer_id, channel)
            left join last_declines using (customer_id, product_id)
            left join product_contacts using (customer_id, product_id)
            where propensities.propensity is not null
                and not coalesce(
                    last_declines.days_since_decline < policies.decline_cooldown_days, false
                )
                and not coalesce(
                    product_contacts.days_since_product_contact
                        < policies.min_days_between_same_product,
                    false
                )""",
        # arbitration. The offer's channels in order: the product's channel order, then score,
        # then channel code; the first is its best channel, whose score is the offer's
        """create table channel_ranked as
            select *,
                row_number() over (
                    partition by customer_id, offer_id
                    order by channel_order asc nulls last, score desc, channel
                ) as channel_choice
            from candidates""",
        # one offer per product; the tier of the customer's best offer (untiered products go
        # with either); the top N by score; control group and A/B cell by md5 buckets
        f"""create table chosen_offers as
            with best as (
                select customer_id, offer_id, campaign_id, product_id, tier, cells,
                    control_rate, score as offer_score
                from channel_ranked
                where channel_choice = 1
                qualify row_number() over (
                    partition by customer_id, product_id order by score desc, offer_id
                ) = 1
            ),
            lead_tier as (
                select customer_id, tier as lead_tier
                from best
                where tier is not null
                qualify row_number() over (
                    partition by customer_id order by offer_score desc, offer_id
                ) = 1
            ),
            top_offers as (
                select best.*
                from best
                left join lead_tier using (customer_id)
                where not {str(bool(rules.separate_tiers)).lower()}
                    or best.tier is null or lead_tier.lead_tier is null
                    or best.tier = lead_tier.lead_tier
                qualify row_number() over (
                    partition by customer_id order by offer_score desc, offer_id
                ) <= {int(rules.top_n_offers)}
            )
            select customer_id, offer_id, campaign_id, product_id,
                {_bucket("customer_id || '|' || campaign_id", "10000")} / 10000.0
                    < control_rate as is_control,
                split_part(cells, '|', {cell_bucket} + 1) as cell
            from top_offers""",
        # placement: round r tries every treated chosen offer not yet placed on its r-th
        # channel; per customer and channel while its contacts left today last, then the
        # channel's daily capacity to the highest scores
        """create table placement_options as
            select channel_ranked.customer_id, channel_ranked.offer_id, channel_ranked.channel,
                channel_ranked.channel_choice, channel_ranked.score,
                channel_ranked.contacts_left_today, channels.daily_capacity
            from channel_ranked
            semi join (select customer_id, offer_id from chosen_offers where not is_control)
                as treated using (customer_id, offer_id)
            inner join channels on channel_ranked.channel = channels.channel_code""",
        """create table placed as
            select customer_id, offer_id, channel from placement_options where false""",
        *(
            f"""insert into placed
                with demand as (
                    select placement_options.*
                    from placement_options
                    anti join placed using (customer_id, offer_id)
                    where placement_options.channel_choice = {placement_round}
                ),
                budget as (
                    select demand.*,
                        row_number() over (
                            partition by demand.customer_id, demand.channel
                            order by demand.score desc, demand.offer_id
                        ) as budget_rank,
                        coalesce(used.n_placed, 0) as n_placed_for_customer
                    from demand
                    left join (
                        select customer_id, channel, count(*) as n_placed
                        from placed group by all
                    ) as used using (customer_id, channel)
                ),
                within_budget as (
                    select budget.*, coalesce(taken.n_placed, 0) as n_placed_on_channel
                    from budget
                    left join (
                        select channel, count(*) as n_placed from placed group by all
                    ) as taken using (channel)
                    where budget.contacts_left_today is null
                        or budget.budget_rank
                            <= budget.contacts_left_today - budget.n_placed_for_customer
                )
                select customer_id, offer_id, channel
                from within_budget
                qualify daily_capacity is null
                    or row_number() over (
                        partition by channel order by score desc, customer_id, offer_id
                    ) <= daily_capacity - n_placed_on_channel"""
            for placement_round in range(1, rules.capacity_fallback_channels + 2)
        ),
        # the selected rows: placed offers on their channel, control offers on their best
        f"""create table nbo as
            with selected as (
                select channel_ranked.customer_id, channel_ranked.offer_id,
                    channel_ranked.channel, channel_ranked.score, false as is_control
                from placed
                inner join channel_ranked using (customer_id, offer_id, channel)
                union all
                select channel_ranked.customer_id, channel_ranked.offer_id,
                    channel_ranked.channel, channel_ranked.score, true as is_control
                from chosen_offers
                inner join channel_ranked using (customer_id, offer_id)
                where chosen_offers.is_control and channel_ranked.channel_choice = 1
            ),
            ranked as (
                select selected.*, chosen_offers.campaign_id, chosen_offers.product_id,
                    chosen_offers.cell,
                    row_number() over (
                        partition by selected.customer_id
                        order by selected.score desc, selected.offer_id
                    ) as offer_rank
                from selected
                inner join chosen_offers using (customer_id, offer_id)
            )
            select ranked.customer_id, ranked.offer_id, ranked.campaign_id, ranked.product_id,
                ranked.channel, cast(ranked.offer_rank as integer) as rank, ranked.score,
                ranked.cell, ranked.is_control,
                {_email("channels.message_kind")} as email,
                reach.mobile_phone,
                {_postal_address()} as postal_address,
                reach.home_branch_id,
                reach.rep_id
            from ranked
            inner join reach using (customer_id)
            inner join channels on ranked.channel = channels.channel_code""",
    ]
    for statement in statements:
        con.execute(statement)
    if candidates_out is not None:
        con.execute(
            "copy (select distinct customer_id, offer_id, channel from candidates) "
            f"to {_quote(str(candidates_out))} (format parquet)"
        )
    row = con.execute("select count(*) from nbo").fetchone()
    return int(row[0]) if row else 0


# --- writing the channel files -----------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export(con: duckdb.DuckDBPyConnection, out_dir: Path, run_date: dt.date) -> dict[str, int]:
    """offers.csv (formula-looking text neutralised) + offers.parquet + _manifest.json per
    channel in <out_dir>/<channel>/<run_date>/, each folder written aside and renamed."""
    channels = con.execute(
        "select channel_code, coalesce(contact_fields, '') from channels order by channel_code"
    ).fetchall()
    rows: dict[str, int] = {}
    for code, fields in channels:
        columns = [*BASE_COLUMNS, "cell", *[name for name in str(fields).split("|") if name]]
        text_columns = {"customer_id", "offer_id", "campaign_id", "product_id", "channel", "cell"}
        text_columns |= set(columns[len(BASE_COLUMNS) + 1 :])
        plain = ", ".join(columns)
        safe = ", ".join(
            f"regexp_replace({name}, '{FORMULA_PATTERN}', '''\\1') as {name}"
            if name in text_columns
            else name
            for name in columns
        )
        query = (
            f"from nbo where channel = {_quote(str(code))} and not is_control "
            "order by customer_id, rank, offer_id"
        )
        target = out_dir / str(code) / run_date.isoformat()
        staged = target.with_name(f".{target.name}.tmp")
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        con.execute(f"create or replace temp table channel_rows as select {plain} {query}")
        con.execute(
            f"copy (select {safe} from channel_rows) to {_quote(str(staged / 'offers.csv'))} "
            "(format csv, header true)"
        )
        con.execute(
            f"copy channel_rows to {_quote(str(staged / 'offers.parquet'))} "
            "(format parquet, compression zstd)"
        )
        count_row = con.execute("select count(*) from channel_rows").fetchone()
        count = int(count_row[0]) if count_row else 0
        manifest = {
            "channel": code,
            "run_date": run_date.isoformat(),
            "row_count": count,
            "columns": columns,
            "files": {name: _sha256(staged / name) for name in ("offers.csv", "offers.parquet")},
        }
        (staged / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.rename(target)
        rows[str(code)] = count
    return rows


def run_baseline(
    landing_dir: Path,
    out_dir: Path,
    run_date: dt.date,
    *,
    rules: Rules | None = None,
    config_dir: Path = DEFAULT_CONFIG_DIR,
    threads: int | None = None,
    memory_limit: str | None = None,
    temp_dir: Path | None = None,
    candidates_out: Path | None = None,
) -> BaselineReport:
    """Read the landing files, decide, write the channel files; time each phase."""
    report = BaselineReport()
    rules = rules or Rules()
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set preserve_insertion_order = false")
        con.execute("set enable_progress_bar = false")
        if threads:
            con.execute(f"set threads = {int(threads)}")
        if memory_limit:
            con.execute(f"set memory_limit = {_quote(memory_limit)}")
        if temp_dir:
            temp_dir.mkdir(parents=True, exist_ok=True)
            con.execute(f"set temp_directory = {_quote(str(temp_dir))}")
        started = time.perf_counter()
        load_sources(con, landing_dir, config_dir)
        config_tables(con, rules, config_dir)
        report.seconds["load"] = time.perf_counter() - started
        started = time.perf_counter()
        report.rows_decided = decide(con, run_date, rules, candidates_out)
        report.seconds["decide"] = time.perf_counter() - started
        started = time.perf_counter()
        report.rows_by_channel = export(con, out_dir, run_date)
        report.seconds["export"] = time.perf_counter() - started
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing-dir", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True, help="exports folder")
    parser.add_argument("--run-date", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG_DIR)
    parser.add_argument("--rules", type=json.loads, default="{}", help="JSON of Rules fields")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--memory-limit", default=None)
    parser.add_argument("--temp-dir", type=Path, default=None)
    parser.add_argument(
        "--candidates-out",
        type=Path,
        default=None,
        help="also write the eligible (customer_id, offer_id, channel) before ranking (Parquet)",
    )
    args = parser.parse_args(argv)
    report = run_baseline(
        args.landing_dir,
        args.out_dir,
        args.run_date,
        rules=Rules(**args.rules),
        config_dir=args.config_dir,
        threads=args.threads,
        memory_limit=args.memory_limit,
        temp_dir=args.temp_dir,
        candidates_out=args.candidates_out,
    )
    json.dump(asdict(report), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
