{#  One row per life event recorded for a customer (customer, event type, event date). #}
with

life_events as (
    select
        life_event_sk,
        customer_id,
        event_type,
        event_date,
        _loaded_at
    from {{ ref('stg_crm__life_events') }}
),

final as (
    select
        life_event_sk,
        customer_id,
        event_type,
        cast(
            {{ dbt.datediff('event_date', run_date(), 'day') }} as integer
        ) as days_since_event,
        event_date,
        _loaded_at as loaded_at
    from life_events
)

select * from final
