with

consent_events as (
    select
        customer_id,
        channel,
        topic,
        status,
        recorded_at
    from {{ ref('stg_crm__consents') }}
    where recorded_at < {{ run_date_end() }}
),

latest_first as (
    select
        customer_id,
        channel,
        topic,
        status,
        recorded_at,
        row_number() over (
            partition by customer_id, channel, topic
            order by recorded_at desc, status desc
        ) as recency
    from consent_events
),

final as (
    select
        customer_id,
        channel,
        topic,
        status,
        recorded_at
    from latest_first
    where recency = 1
)

select * from final
