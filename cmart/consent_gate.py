"""Consent gate: before the lists are written, recompute consent and preferences for every
non-control nbo row independently of the decisioning models, from the staging tables only.

Rules (CONTRACTS.md "Consent rule"), as of the end of the run date:

- the latest event per (customer, channel, topic) counts; an ``all`` opt-out forbids the
  channel (``no_consent``); an opt-out for the product's category removes that category
  (``topic_opt_out``); a channel that requires opt-in needs a current opt-in for ``all`` or for
  the product's category (``no_consent``);
- preferences: on a channel whose list carries the e-mail, the address must be the one the
  customer's ``email_for_<message kind>`` preference picks (home when none is recorded) when
  the core customer record holds an address of that kind (``email_preference``); likewise the
  postal address and ``mail_to`` (``mail_preference``). The mart may fill a missing address from
  a matched CRM record, which this gate does not re-resolve.

It reads nothing the decisioning models derive (int_consent_current, dim_customer, ...), so a
bug there cannot hide itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from cmart.exports import NBO_RELATION

_VIOLATIONS_SQL = f"""
with
day_end as (
    select cast(? as date) + interval 1 day as end_at
),
rows_to_check as (
    select customer_id, offer_id, product_id, channel, email, postal_address
    from {NBO_RELATION}
    where run_date = ? and not is_control
),
channels as (
    select channel_code, requires_opt_in, contact_fields, message_kind
    from staging.stg_config__channels
),
products as (
    select product_id, category from staging.stg_core_banking__products
),
consent_current as (
    select customer_id, channel, topic, status
    from staging.stg_crm__consents
    where recorded_at < (select end_at from day_end)
    qualify row_number() over (
        partition by customer_id, channel, topic order by recorded_at desc, status desc
    ) = 1
),
preference_current as (
    select
        customer_id,
        max(case when preference_key = 'email_for_detailed' then preference_value end)
            as email_for_detailed,
        max(case when preference_key = 'email_for_short' then preference_value end)
            as email_for_short,
        max(case when preference_key = 'mail_to' then preference_value end) as mail_to
    from (
        select customer_id, preference_key, preference_value
        from staging.stg_crm__preferences
        where recorded_at < (select end_at from day_end)
        qualify row_number() over (
            partition by customer_id, preference_key order by recorded_at desc
        ) = 1
    )
    group by customer_id
),
customers as (
    select customer_id, email_home, email_work, home_address, work_address
    from staging.stg_core_banking__customers
),
judged as (
    select
        rows_to_check.*,
        consent_all.status as status_all,
        consent_topic.status as status_topic,
        channels.requires_opt_in,
        list_contains(string_split(coalesce(channels.contact_fields, ''), '|'), 'email')
            as carries_email,
        list_contains(string_split(coalesce(channels.contact_fields, ''), '|'), 'postal_address')
            as carries_postal,
        case
            when coalesce(
                case when channels.message_kind = 'short' then preference_current.email_for_short
                     else preference_current.email_for_detailed end,
                'home'
            ) = 'work' then customers.email_work
            else customers.email_home
        end as preferred_email,
        case
            when coalesce(preference_current.mail_to, 'home') = 'work' then customers.work_address
            else customers.home_address
        end as preferred_postal
    from rows_to_check
    left join channels on rows_to_check.channel = channels.channel_code
    left join products on rows_to_check.product_id = products.product_id
    left join consent_current as consent_all
        on rows_to_check.customer_id = consent_all.customer_id
        and rows_to_check.channel = consent_all.channel
        and consent_all.topic = 'all'
    left join consent_current as consent_topic
        on rows_to_check.customer_id = consent_topic.customer_id
        and rows_to_check.channel = consent_topic.channel
        and consent_topic.topic = products.category
    left join preference_current on rows_to_check.customer_id = preference_current.customer_id
    left join customers on rows_to_check.customer_id = customers.customer_id
),
reasons as (
    select
        channel, customer_id, offer_id, product_id,
        list_filter([
            case when status_all = 'opt_out' then 'no_consent' end,
            case when status_topic = 'opt_out' then 'topic_opt_out' end,
            case
                when coalesce(requires_opt_in, true)
                    and coalesce(status_all, '') <> 'opt_in'
                    and coalesce(status_topic, '') <> 'opt_in'
                then 'no_consent'
            end,
            case
                when carries_email and preferred_email is not null
                    and email is distinct from preferred_email
                then 'email_preference'
            end,
            case
                when carries_postal and preferred_postal is not null
                    and postal_address is distinct from preferred_postal
                then 'mail_preference'
            end
        ], lambda reason: reason is not null) as reasons
    from judged
)
select channel, customer_id, offer_id, product_id, list_distinct(reasons) as reasons
from reasons
where len(reasons) > 0
order by channel, customer_id, offer_id
"""


@dataclass(frozen=True)
class ConsentGateResult:
    rows_checked: int
    violations: pa.Table  # channel, customer_id, offer_id, product_id, reasons (list)

    @property
    def passed(self) -> bool:
        return self.violations.num_rows == 0

    def counts_by(self, column: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for value in self.violations.column(column).to_pylist():
            for key in value if isinstance(value, list) else [value]:
                counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))


def check_consent(con: duckdb.DuckDBPyConnection, run_date: dt.date) -> ConsentGateResult:
    """Every non-control nbo row of ``run_date`` that breaks consent or a preference."""
    counted = con.execute(
        f"select count(*) from {NBO_RELATION} where run_date = ? and not is_control", [run_date]
    ).fetchall()
    violations = con.sql(_VIOLATIONS_SQL, params=[run_date, run_date]).to_arrow_table()
    return ConsentGateResult(rows_checked=int(counted[0][0]), violations=violations)
