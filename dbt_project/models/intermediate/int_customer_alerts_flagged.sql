{#
    One row per customer and alert raised on the run date. Each alert code of the
    customer_alert_rules seed has its rule here; the seed holds the look-back windows:
      recent_life_event    - a life event within lookback_days
      open_complaint       - a complaint opened and not closed by the end of the run date
      recent_decline       - a negative response within lookback_days
      recent_hard_response - a hard response within lookback_days
#}
with

alert_rules as (
    select
        alert_code,
        lookback_days
    from {{ ref('customer_alert_rules') }}
),

life_events as (
    select
        customer_id,
        event_date
    from {{ ref('stg_crm__life_events') }}
    where event_date <= {{ run_date() }}
),

complaints as (
    select
        customer_id,
        opened_at,
        closed_at
    from {{ ref('stg_crm__complaints') }}
),

responses as (
    select
        customer_id,
        response_type,
        responded_at
    from {{ ref('stg_campaign__responses') }}
    where responded_at < {{ run_date_end() }}
),

response_types as (
    select
        response_type,
        response_class
    from {{ ref('stg_config__response_types') }}
),

classified_responses as (
    select
        responses.customer_id,
        response_types.response_class,
        responses.responded_at
    from responses
    inner join response_types
        on responses.response_type = response_types.response_type
),

recent_life_event as (
    select
        life_events.customer_id,
        alert_rules.alert_code,
        max(cast(life_events.event_date as {{ dbt.type_timestamp() }})) as triggered_at
    from life_events
    inner join alert_rules
        on alert_rules.alert_code = 'recent_life_event'
    where alert_rules.lookback_days is null
        or life_events.event_date > {{ dbt.dateadd(
            'day', '-1 * alert_rules.lookback_days', run_date()
        ) }}
    group by life_events.customer_id, alert_rules.alert_code
),

open_complaint as (
    select
        complaints.customer_id,
        alert_rules.alert_code,
        max(complaints.opened_at) as triggered_at
    from complaints
    inner join alert_rules
        on alert_rules.alert_code = 'open_complaint'
    where complaints.opened_at < {{ run_date_end() }}
        and (complaints.closed_at is null or complaints.closed_at >= {{ run_date_end() }})
    group by complaints.customer_id, alert_rules.alert_code
),

recent_response as (
    select
        classified_responses.customer_id,
        alert_rules.alert_code,
        max(classified_responses.responded_at) as triggered_at
    from classified_responses
    inner join alert_rules
        on (
            alert_rules.alert_code = 'recent_decline'
            and classified_responses.response_class = 'negative'
        )
        or (
            alert_rules.alert_code = 'recent_hard_response'
            and classified_responses.response_class = 'hard'
        )
    where alert_rules.lookback_days is null
        or classified_responses.responded_at >= {{ dbt.dateadd(
            'day', '-1 * alert_rules.lookback_days', run_date_end()
        ) }}
    group by classified_responses.customer_id, alert_rules.alert_code
),

final as (
    select customer_id, alert_code, triggered_at from recent_life_event
    union all
    select customer_id, alert_code, triggered_at from open_complaint
    union all
    select customer_id, alert_code, triggered_at from recent_response
)

select * from final
