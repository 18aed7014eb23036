"""The hand-written DuckDB baseline: landing files in, channel files out, one script.

What a competent data engineer would write instead of the whole mart when the only question is
"which offers go to which customer on which channel today": it reads the landing files directly
(CSV, CSV.gz, JSON lines, Parquet; any mix), normalises and deduplicates only the columns the
decision needs, and computes, with the same rules as the `nbo` model:

* the customer's segment (first rule by priority on age at the run date, income band,
  occupation) and the products on the segment's path that the customer does not hold;
* active offers (offer and campaign valid on the run date) on each of their channels;
* no open complaint; no response to the same offer in the suppression window;
* the consent rule of CONTRACTS.md (latest event per customer, channel and topic; an `all`
  opt-out beats a topic opt-in; opt-in channels need an explicit opt-in);
* reachability: the channel's contact fields exist (e-mail and postal address picked by the
  customer's preferences; mobile phone and e-mail completed from matched CRM records; the
  customer's rep);
* score = smoothed hard-response rate per (segment at contact, product, channel) x value, with
  responses attributed to contacts (the given contact if valid, else the latest in the window);
* the best channel per offer, the top N offers per customer, the control group and the A/B cell
  by the same md5 buckets;

and writes `offers.csv` + `offers.parquet` + `_manifest.json` per channel, control group left
out. It uses nothing but DuckDB (and the standard library). Run it as
``python -m bench.baseline --landing-dir D/landing --out-dir OUT --run-date YYYY-MM-DD``; it
prints its phase timings as JSON.
"""

from __future__ import annotations

import argparse
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


@dataclass(frozen=True)
class Rules:
    """The decisioning settings (settings.yml `decisioning:`)."""

    top_n_offers: int = 3
    response_suppression_days: int = 30
    attribution_window_days: int = 30
    propensity_prior_contacts: int = 200
    default_control_rate: float = 0.1


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
    "products": {"product_id": "varchar", "category": "varchar", "value": "double"},
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


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join(_quote(str(path)) for path in paths) + "]"


def _typed(column: str, sql_type: str, source_type: str | None) -> str:
    """`column` (of DuckDB type `source_type`, None = missing) as `sql_type`, as the loader types
    it: text is trimmed and parsed, timestamps with an offset become UTC, naive ones are UTC."""
    name = f'"{column}"'
    if source_type is None:
        return f"cast(null as {sql_type}) as {name}"
    source = source_type.upper()
    if sql_type == "varchar":
        expression = name if source == "VARCHAR" else f"cast({name} as varchar)"
        return f"nullif({expression}, '') as {name}"
    if source != "VARCHAR":
        if sql_type == "timestamp" and source.startswith("TIMESTAMP"):
            return f"cast({name} as timestamp) as {name}"
        return f"cast({name} as {sql_type}) as {name}"
    if sql_type == "timestamp":
        return f"cast(try_cast(trim({name}) as timestamptz) as timestamp) as {name}"
    if sql_type == "boolean":
        lowered = f"lower(trim({name}))"
        return (
            f"case when {lowered} in ('true', '1', 'yes') then true "
            f"when {lowered} in ('false', '0', 'no') then false end as {name}"
        )
    return f"try_cast(trim({name}) as {sql_type}) as {name}"


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


def scan(con: duckdb.DuckDBPyConnection, landing_dir: Path, source: str) -> str:
    """A SQL subquery over every landing file of `source`, with the needed columns typed, plus
    `_file` and `_row` (load order: later file, later row wins)."""
    columns = SOURCES[source]
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
        row = "file_row_number" if kind == "parquet" else "0"
        parts.append(
            f"select {typed}, filename as _file, {row} as _row "
            f"from (select {renamed} from {reader})"
        )
    return "(" + " union all by name ".join(parts) + ")"


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


def load_sources(con: duckdb.DuckDBPyConnection, landing_dir: Path, config_dir: Path) -> None:
    """Read, normalise and deduplicate what the decision needs (the latest row per key)."""
    src = {source: scan(con, landing_dir, source) for source in SOURCES}
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
                {_code("message_kind")} as message_kind
            from {config["channels"]}""",
        f"""create table hard_types as
            select {_code("response_type")} as response_type
            from {config["response_types"]}
            where {_code("response_class")} = 'hard'""",
        f"""create table customers as
            select trim(customer_id) as customer_id, {_identifier("national_id")} as national_id,
                birth_date, {_code("occupation")} as occupation,
                {_code("income_band")} as income_band,
                {_text("home_branch_id")} as home_branch_id,
                {_code("email_home")} as email_home, {_code("email_work")} as email_work,
                {_phone("mobile_phone")} as mobile_phone,
                {_text("home_address")} as home_address, {_text("work_address")} as work_address
            from {src["customers"]}
            qualify row_number() over (
                partition by trim(customer_id) order by updated_at desc, _file desc, _row desc
            ) = 1""",
        f"""create table crm_customers as
            select trim(crm_id) as crm_id, {_identifier("national_id")} as national_id,
                {_code("email")} as email, {_phone("mobile_phone")} as mobile_phone, updated_at
            from {src["crm_customers"]}
            qualify row_number() over (
                partition by trim(crm_id) order by updated_at desc, _file desc, _row desc
            ) = 1""",
        f"""create table products as
            select trim(product_id) as product_id, {_code("category")} as category,
                value as product_value
            from {src["products"]}
            qualify row_number() over (
                partition by trim(product_id) order by _file desc, _row desc) = 1""",
        f"""create table campaigns as
            select trim(campaign_id) as campaign_id, start_date, end_date
            from {src["campaigns"]}
            qualify row_number() over (
                partition by trim(campaign_id) order by _file desc, _row desc) = 1""",
        f"""create table offers as
            select trim(offer_id) as offer_id, trim(campaign_id) as campaign_id,
                trim(product_id) as product_id,
                {_code("replace(channels, ' ', '')")} as channels,
                coalesce(nullif(replace(trim(cells), ' ', ''), ''), 'A') as cells,
                control_rate, valid_from, valid_to
            from {src["offers"]}
            qualify row_number() over (
                partition by trim(offer_id) order by _file desc, _row desc) = 1""",
        f"""create table holdings as
            select trim(customer_id) as customer_id, trim(product_id) as product_id,
                {_code("status")} = 'active' as is_active, opened_at
            from {src["holdings"]}
            qualify row_number() over (
                partition by trim(customer_id), trim(product_id), opened_at
                order by _file desc, _row desc) = 1""",
        f"""create table contacts as
            select trim(contact_id) as contact_id, trim(customer_id) as customer_id,
                trim(offer_id) as offer_id, {_code("channel")} as channel,
                {_text("rep_id")} as rep_id, coalesce(is_control, false) as is_control,
                contacted_at
            from {src["contacts"]}
            qualify row_number() over (
                partition by trim(contact_id) order by contacted_at desc, _file desc, _row desc
            ) = 1""",
        f"""create table responses as
            select trim(response_id) as response_id, trim(customer_id) as customer_id,
                trim(offer_id) as offer_id, {_code("channel")} as channel,
                {_code("response_type")} as response_type, {_text("contact_id")} as contact_id,
                responded_at
            from {src["responses"]}
            qualify row_number() over (
                partition by trim(response_id) order by responded_at desc, _file desc, _row desc
            ) = 1""",
        f"""create table consent_events as
            select trim(customer_id) as customer_id, {_code("channel")} as channel,
                coalesce({_code("topic")}, 'all') as topic, {_code("status")} as status,
                recorded_at, _file, _row
            from {src["consents"]}""",
        f"""create table preference_events as
            select trim(customer_id) as customer_id, {_code("key")} as preference_key,
                {_code("value")} as preference_value, recorded_at, _file, _row
            from {src["preferences"]}""",
        f"""create table complaints as
            select trim(customer_id) as customer_id, opened_at, closed_at
            from {src["complaints"]}
            qualify row_number() over (
                partition by trim(complaint_id) order by _file desc, _row desc) = 1""",
        f"""create table reps as
            select trim(rep_id) as rep_id, trim(branch_id) as branch_id
            from {src["reps"]}
            qualify row_number() over (
                partition by trim(rep_id) order by _file desc, _row desc) = 1""",
    ]
    for statement in statements:
        con.execute(statement)


def decide(con: duckdb.DuckDBPyConnection, run_date: dt.date, rules: Rules) -> int:
    """Compute table `nbo`: the top N offers per customer on their best channel."""
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
        f"""create table hard_contacts as
            with hard as (
                select responses.*
                from responses inner join hard_types using (response_type)
                where responses.responded_at < {day_end}
            ),
            given as (
                select hard.response_id, contacts.contact_id
                from hard
                inner join contacts
                    on hard.contact_id = contacts.contact_id
                    and contacts.customer_id = hard.customer_id
                    and contacts.offer_id = hard.offer_id
                    and contacts.contacted_at <= hard.responded_at
                    and hard.responded_at <= contacts.contacted_at + {window}
            ),
            matched as (
                select hard.response_id,
                    arg_min(
                        contacts.contact_id,
                        (case when contacts.channel = hard.channel then 0 else 1 end,
                         -epoch_us(contacts.contacted_at), contacts.contact_id)
                    ) as contact_id
                from hard
                inner join contacts
                    on hard.customer_id = contacts.customer_id
                    and hard.offer_id = contacts.offer_id
                    and contacts.contacted_at <= hard.responded_at
                    and contacts.contacted_at >= hard.responded_at - {window}
                where hard.response_id not in (select response_id from given)
                group by hard.response_id
            )
            select distinct contact_id from given
            union
            select distinct contact_id from matched""",
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
        # the offers live today on each of their channels, with what a row needs
        f"""create table offer_channels as
            select offers.offer_id, offers.campaign_id, offers.product_id,
                products.category, products.product_value, offers.cells,
                coalesce(offers.control_rate, {rules.default_control_rate}) as control_rate,
                channels.channel_code as channel, channels.requires_opt_in,
                channels.contact_fields, channels.message_kind
            from offers
            inner join campaigns using (campaign_id)
            inner join products using (product_id)
            inner join channels on {_pipe_contains("offers.channels", "channels.channel_code")}
            where offers.valid_from <= {day} and offers.valid_to >= {day}
                and campaigns.start_date <= {day} and campaigns.end_date >= {day}""",
        f"""create table consents as
            select customer_id, channel, topic, status
            from consent_events
            where recorded_at < {day_end}
            qualify row_number() over (
                partition by customer_id, channel, topic
                order by recorded_at desc, _file desc, _row desc
            ) = 1""",
        # per customer and channel: reachable (contact fields present) and no `all` opt-out
        f"""create table customer_channels as
            select reach.customer_id, channels.channel_code as channel,
                consent_all.status as status_all
            from reach
            cross join channels
            left join consents as consent_all
                on reach.customer_id = consent_all.customer_id
                and channels.channel_code = consent_all.channel
                and consent_all.topic = 'all'
            where coalesce(consent_all.status, 'none') <> 'opt_out'
                and (channels.contact_fields is null or (
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
                ))""",
        f"""create table nbo as
            with eligible_products as (
                select customer_segments.customer_id, customer_segments.segment_code,
                    product_paths.product_id
                from customer_segments
                inner join product_paths using (segment_code)
                anti join (
                    select customer_id, product_id from holdings
                    where is_active and opened_at < {day_end}
                ) as held using (customer_id, product_id)
                anti join (
                    select customer_id from complaints
                    where opened_at < {day_end}
                        and (closed_at is null or closed_at >= {day_end})
                ) as complaining using (customer_id)
            ),
            recent_responses as (
                select distinct customer_id, offer_id from responses
                where responded_at < {day_end} and responded_at >= {suppression_start}
            ),
            candidates as (
                select eligible_products.customer_id, eligible_products.segment_code,
                    offer_channels.offer_id, offer_channels.campaign_id,
                    offer_channels.product_id, offer_channels.category,
                    offer_channels.product_value, offer_channels.cells,
                    offer_channels.control_rate, offer_channels.channel,
                    offer_channels.requires_opt_in, customer_channels.status_all
                from eligible_products
                inner join offer_channels using (product_id)
                inner join customer_channels
                    on eligible_products.customer_id = customer_channels.customer_id
                    and offer_channels.channel = customer_channels.channel
                anti join recent_responses
                    on eligible_products.customer_id = recent_responses.customer_id
                    and offer_channels.offer_id = recent_responses.offer_id
            ),
            allowed as (
                select candidates.*
                from candidates
                left join (select * from consents where topic <> 'all') as consent_topic
                    on candidates.customer_id = consent_topic.customer_id
                    and candidates.channel = consent_topic.channel
                    and candidates.category = consent_topic.topic
                where coalesce(consent_topic.status, 'none') <> 'opt_out'
                    and (not candidates.requires_opt_in or candidates.status_all = 'opt_in'
                        or consent_topic.status = 'opt_in')
            ),
            scored as (
                select allowed.*, propensities.propensity * allowed.product_value as score
                from allowed
                inner join propensities using (segment_code, product_id, channel)
            ),
            best_channel as (
                select customer_id,
                    arg_min(
                        struct_pack(offer_id, channel, score, campaign_id, product_id, cells,
                            control_rate),
                        (-score, channel)
                    ) as offer
                from scored
                group by customer_id, offer_id
            ),
            top_offers as (
                select customer_id,
                    arg_min(offer, (-offer.score, offer.offer_id), {rules.top_n_offers})
                        as offers
                from best_channel
                group by customer_id
            ),
            ranked as (
                select customer_id, unnest(offers, recursive := true),
                    generate_subscripts(offers, 1) as offer_rank
                from top_offers
            )
            select ranked.customer_id, ranked.offer_id, ranked.campaign_id, ranked.product_id,
                ranked.channel, cast(ranked.offer_rank as integer) as rank, ranked.score,
                split_part(
                    ranked.cells, '|',
                    {
            _bucket(
                "ranked.customer_id || '|' || ranked.campaign_id || '|cell'",
                "length(ranked.cells) - length(replace(ranked.cells, '|', '')) + 1",
            )
        } + 1
                ) as cell,
                {_bucket("ranked.customer_id || '|' || ranked.campaign_id", "10000")} / 10000.0
                    < ranked.control_rate as is_control,
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
) -> BaselineReport:
    """Read the landing files, decide, write the channel files; time each phase."""
    report = BaselineReport()
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set preserve_insertion_order = false")
        if threads:
            con.execute(f"set threads = {int(threads)}")
        if memory_limit:
            con.execute(f"set memory_limit = {_quote(memory_limit)}")
        if temp_dir:
            con.execute(f"set temp_directory = {_quote(str(temp_dir))}")
        started = time.perf_counter()
        load_sources(con, landing_dir, config_dir)
        report.seconds["load"] = time.perf_counter() - started
        started = time.perf_counter()
        report.rows_decided = decide(con, run_date, rules or Rules())
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
    )
    json.dump(asdict(report), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
