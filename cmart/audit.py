"""Consent audit: did any row exported on a day break consent, preferences or suppression?

Recomputed from the landing files alone, with DuckDB reading them directly (no warehouse, no
dbt, no loader code), by the rules of CONTRACTS.md:

- consent: the latest event per (customer, channel, topic) recorded before the end of the day
  counts (an opt-out wins a tie); an ``all`` opt-out forbids the channel; a topic opt-out
  removes that product category; a channel that requires opt-in needs a current ``all`` or
  topic opt-in;
- preferences: the latest value per (customer, key) picks the e-mail (``email_for_detailed`` /
  ``email_for_short`` by the channel's message kind) and the postal address (``mail_to``);
  the export must carry the address the preference picks (home when none is recorded). For
  e-mail this is checked when the core customer record holds an address of the picked kind
  (the mart may fill a missing one from the matched CRM record, which this audit does not
  re-resolve);
- an open complaint (opened before the end of the day, closed_at empty or at/after it)
  suppresses all marketing.

Landing rows the loader would quarantine are skipped with the same contract: the source's
``expectations/<source>.yml`` (required columns present, else the file is skipped; not-null,
value sets, ranges and types per row), evaluated here in SQL. Files with an unsupported
extension or that cannot be read are skipped, as the loader rejects them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from cmart.config import CampaignConfig
from expectations.checks import RowCheck, row_checks
from expectations.spec import ColumnSpec, SourceSpec, load_spec

VIOLATION_COLUMNS = ("channel", "customer_id", "offer_id", "product_id", "reasons")
AUDITED_SOURCES = ("customers", "products", "consents", "preferences", "complaints")
READERS = {
    ".csv.gz": "read_csv({path}, all_varchar = true, header = true, delim = ',', quote = '\"')",
    ".csv": "read_csv({path}, all_varchar = true, header = true, delim = ',', quote = '\"')",
    ".jsonl": "read_json({path}, format = 'newline_delimited', ignore_errors = true)",
    ".parquet": "read_parquet({path})",
}


@dataclass(frozen=True)
class ChannelAudit:
    channel: str
    rows: int
    violating_rows: int


@dataclass(frozen=True)
class ConsentAudit:
    """The audit of one day: per channel counts and every violating row with its reasons."""

    run_date: dt.date
    channels: list[ChannelAudit]
    violations: pa.Table  # channel, customer_id, offer_id, product_id, reasons

    @property
    def ok(self) -> bool:
        return self.violations.num_rows == 0


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _extension(path: Path) -> str | None:
    return next((ext for ext in READERS if path.name.lower().endswith(ext)), None)


def _read_file(con: duckdb.DuckDBPyConnection, path: Path, spec: SourceSpec) -> str | None:
    """SQL selecting the contract columns of one file as text; None if the loader rejects it."""
    extension = _extension(path)
    if extension is None or path.name.startswith((".", "_")) or path.stat().st_size == 0:
        return None
    reader = READERS[extension].format(path=_literal(str(path)))
    try:
        names = [name for name, *_ in con.sql(f"describe select * from {reader}").fetchall()]
        con.sql(f"select count(*) from {reader}").fetchall()  # fails on corrupt / non-UTF-8
    except duckdb.Error:
        return None
    by_lower = {name.strip().lower(): name for name in names}
    if any(name not in by_lower for name in spec.required_columns):
        return None
    columns = [
        f"cast({_ident(by_lower[column.name])} as varchar)" if column.name in by_lower else "null"
        for column in spec.columns
    ]
    selected = ", ".join(
        f"{value} as {_ident(column.name)}"
        for value, column in zip(columns, spec.columns, strict=True)
    )
    return f"select {selected}, {_literal(path.name)} as _file from {reader}"


def _typed(column: ColumnSpec) -> str:
    """SQL typing one text column the way the contract reads it (null if it does not parse)."""
    value = f"trim({_ident(column.name)})"
    if column.type == "date":
        return f"cast(try_strptime({value}, '%Y-%m-%d') as date)"
    if column.type == "timestamp":
        return f"cast(try_cast({value} as timestamptz) as timestamp)"
    if column.type == "double":
        return (
            f"case when isfinite(try_cast({value} as double)) then try_cast({value} as double) end"
        )
    if column.type == "integer":
        return f"try_cast({value} as bigint)"
    if column.type == "boolean":
        return (
            f"case when lower({value}) in ('true', '1', 'yes', 'false', '0', 'no') then {value} end"
        )
    return f"nullif({_ident(column.name)}, '')"


def _check_sql(check: RowCheck) -> str:
    name = _ident(check.column.name)
    if check.kind == "not_null":
        return f"{name} is not null"
    if check.kind == "in_set":
        values = ", ".join(_literal(value) for value in check.values)
        return f"({name} is null or {name} in ({values}))"
    if check.kind == "pipe_list_in_set":
        values = "[" + ", ".join(_literal(value) for value in check.values) + "]"
        return f"({name} is null or list_has_all({values}, string_split({name}, '|')))"
    bounds = []
    cast_to = {"date": "date", "timestamp": "timestamp"}.get(check.column.type, "double")
    for bound, operator in ((check.min, ">="), (check.max, "<=")):
        if bound is not None:
            shown = bound.isoformat(sep=" ") if isinstance(bound, dt.datetime) else repr(bound)
            bounds.append(f"{name} {operator} cast({_literal(str(shown))} as {cast_to})")
    return f"({name} is null or ({' and '.join(bounds) or 'true'}))"


def load_valid_rows(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    source: str,
    config: CampaignConfig,
    now: dt.datetime,
) -> int:
    """Create temp table ``landing_<source>``: the valid rows of every readable file; returns
    the number of rows skipped as invalid."""
    spec = load_spec(source)
    folder = landing_dir / source
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    parts = [sql for path in files if path.is_file() and (sql := _read_file(con, path, spec))]
    empty = ", ".join(f"cast(null as varchar) as {_ident(c.name)}" for c in spec.columns)
    text = " union all ".join(parts) or f"select {empty}, '' as _file where false"
    typed = ", ".join(f"{_typed(column)} as {_ident(column.name)}" for column in spec.columns)
    parsed_ok = " and ".join(
        f"({_ident(column.name)} is null or nullif(trim({_ident(column.name)}), '') is null "
        f"or {_typed(column)} is not null)"
        for column in spec.columns
        if column.type != "varchar"
    )
    con.execute(
        f"create or replace temp table landing_text_{source} as "
        f"select *, row_number() over () as _order from ({text})"
    )
    checks = " and ".join(_check_sql(check) for check in row_checks(spec, config, now)) or "true"
    con.execute(
        f"create or replace temp table landing_{source} as "
        f"select * from (select {typed}, _file, _order from landing_text_{source} "
        f"where {parsed_ok or 'true'}) where {checks}"
    )
    counts = con.sql(
        f"select (select count(*) from landing_text_{source}) - "
        f"(select count(*) from landing_{source})"
    ).fetchall()
    return int(counts[0][0])


def _exports_sql(exports_dir: Path, run_date: dt.date) -> str | None:
    paths = sorted(exports_dir.glob(f"*/{run_date.isoformat()}/offers.parquet"))
    if not paths:
        return None
    listed = "[" + ", ".join(_literal(str(path)) for path in paths) + "]"
    return f"read_parquet({listed}, union_by_name = true)"


def _channels_table(config: CampaignConfig) -> pa.Table:
    return pa.table(
        {
            "channel_code": [channel.channel_code for channel in config.channels],
            "requires_opt_in": [channel.requires_opt_in for channel in config.channels],
            "message_kind": [channel.message_kind for channel in config.channels],
        }
    )


def _violations_sql(exports: str, has_email: bool, has_postal: bool) -> str:
    email = "exported.email" if has_email else "cast(null as varchar)"
    postal = "exported.postal_address" if has_postal else "cast(null as varchar)"
    return f"""
        with
        exported as (
            select *, {email} as exported_email, {postal} as exported_postal
            from {exports} as exported
        ),
        consent_events as (
            select
                trim(customer_id) as customer_id,
                lower(trim(channel)) as channel,
                coalesce(nullif(lower(trim(topic)), ''), 'all') as topic,
                lower(trim(status)) as status,
                recorded_at
            from landing_consents
            where recorded_at < $day_end
        ),
        consent_current as (
            select * from consent_events
            qualify row_number() over (
                partition by customer_id, channel, topic order by recorded_at desc, status desc
            ) = 1
        ),
        customer_current as (
            select * from landing_customers
            qualify row_number() over (
                partition by trim(customer_id) order by updated_at desc, _order desc
            ) = 1
        ),
        preference_current as (
            select
                trim(customer_id) as customer_id,
                max(case when lower(trim(key)) = 'email_for_detailed' then value end) as detailed,
                max(case when lower(trim(key)) = 'email_for_short' then value end) as short,
                max(case when lower(trim(key)) = 'mail_to' then value end) as mail_to
            from (
                select * from landing_preferences
                where recorded_at < $day_end
                qualify row_number() over (
                    partition by trim(customer_id), lower(trim(key))
                    order by recorded_at desc, lower(trim(value))
                ) = 1
            )
            group by all
        ),
        product_current as (
            select trim(product_id) as product_id, lower(trim(category)) as category
            from landing_products
            qualify row_number() over (partition by trim(product_id) order by _order desc) = 1
        ),
        open_complaints as (
            select trim(customer_id) as customer_id, string_agg(complaint_id, '|') as ids
            from landing_complaints
            where opened_at < $day_end and (closed_at is null or closed_at >= $day_end)
            group by all
        ),
        judged as (
            select
                exported.channel,
                exported.customer_id,
                exported.offer_id,
                exported.product_id,
                exported.exported_email,
                exported.exported_postal,
                channels.requires_opt_in,
                consent_all.status as all_status,
                consent_topic.status as topic_status,
                products.category,
                complaints.ids as open_complaint_ids,
                customers.customer_id is not null as is_known_customer,
                -- the core record's address of the kind the preference picks (home by default);
                -- null when the core record has none (the mart may then take the CRM's e-mail)
                nullif(lower(trim(case
                    when lower(trim(case when channels.message_kind = 'short'
                        then preferences.short else preferences.detailed end)) = 'work'
                        then customers.email_work
                    else customers.email_home
                end)), '') as expected_email,
                trim(case
                    when lower(trim(preferences.mail_to)) = 'work'
                        then coalesce(customers.work_address, customers.home_address)
                    else coalesce(customers.home_address, customers.work_address)
                end) as expected_postal
            from exported
            left join audit_channels as channels on channels.channel_code = exported.channel
            left join product_current as products on products.product_id = exported.product_id
            left join consent_current as consent_all
                on consent_all.customer_id = exported.customer_id
                and consent_all.channel = exported.channel
                and consent_all.topic = 'all'
            left join consent_current as consent_topic
                on consent_topic.customer_id = exported.customer_id
                and consent_topic.channel = exported.channel
                and consent_topic.topic = products.category
            left join open_complaints as complaints
                on complaints.customer_id = exported.customer_id
            left join customer_current as customers
                on trim(customers.customer_id) = exported.customer_id
            left join preference_current as preferences
                on preferences.customer_id = exported.customer_id
        ),
        reasons as (
            select
                channel, customer_id, offer_id, product_id,
                concat_ws('; ',
                    case when channel not in (select channel_code from audit_channels)
                        then 'unknown channel ' || channel end,
                    case when all_status = 'opt_out'
                        then 'consent: opted out of ' || channel end,
                    case when topic_status = 'opt_out'
                        then 'topic opt-out: ' || category || ' on ' || channel end,
                    case when requires_opt_in
                        and coalesce(all_status, 'none') <> 'opt_out'
                        and coalesce(topic_status, 'none') <> 'opt_out'
                        and not coalesce(all_status = 'opt_in' or topic_status = 'opt_in', false)
                        then 'consent: no opt-in for ' || channel || ' (requires opt-in)' end,
                    case when open_complaint_ids is not null
                        then 'open complaint ' || open_complaint_ids end,
                    case when not is_known_customer then 'customer not in landing files' end,
                    case when exported_email is not null and expected_email is not null
                        and lower(trim(exported_email)) <> expected_email
                        then 'preference: e-mail is ' || exported_email || ', the preference picks '
                            || expected_email end,
                    case when exported_postal is not null
                        and trim(exported_postal) is distinct from expected_postal
                        then 'preference: postal address is not the one mail_to picks' end
                ) as reasons
            from judged
        )
        select channel, customer_id, offer_id, product_id, reasons
        from reasons
        where reasons <> ''
        order by channel, customer_id, offer_id
    """


def audit_consent(
    landing_dir: Path,
    exports_dir: Path,
    config: CampaignConfig,
    run_date: dt.date,
    *,
    now: dt.datetime | None = None,
) -> ConsentAudit:
    """Audit the exports of ``run_date`` against the landing files (see the module doc)."""
    load_time = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    day_end = dt.datetime.combine(run_date + dt.timedelta(days=1), dt.time())
    empty = pa.table({name: pa.array([], pa.string()) for name in VIOLATION_COLUMNS})
    exports = _exports_sql(exports_dir, run_date)
    if exports is None:
        return ConsentAudit(run_date, [], empty)
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        for source in AUDITED_SOURCES:
            load_valid_rows(con, landing_dir, source, config, load_time)
        con.register("audit_channels", _channels_table(config))
        columns = {name for name, *_ in con.sql(f"describe select * from {exports}").fetchall()}
        query = _violations_sql(exports, "email" in columns, "postal_address" in columns)
        violations = con.sql(query, params={"day_end": day_end}).to_arrow_table()
        counts = con.sql(
            f"select channel, count(*) from {exports} group by channel order by channel"
        ).fetchall()
    bad = pa.table(violations).group_by("channel").aggregate([("customer_id", "count")])
    bad_counts = dict(
        zip(bad.column("channel").to_pylist(), bad.column(1).to_pylist(), strict=True)
    )
    channels = [ChannelAudit(code, rows, bad_counts.get(code, 0)) for code, rows in counts]
    return ConsentAudit(run_date, channels, violations)
