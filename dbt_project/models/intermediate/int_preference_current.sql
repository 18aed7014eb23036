with

preference_events as (
    select
        customer_id,
        preference_key,
        preference_value,
        recorded_at
    from {{ ref('stg_crm__preferences') }}
    where recorded_at < {{ run_date_end() }}
),

latest_first as (
    select
        customer_id,
        preference_key,
        preference_value,
        row_number() over (
            partition by customer_id, preference_key
            order by recorded_at desc, preference_value
        ) as recency
    from preference_events
),

final as (
    select
        customer_id,
        max(case when preference_key = 'email_for_detailed' then preference_value end)
            as email_for_detailed,
        max(case when preference_key = 'email_for_short' then preference_value end)
            as email_for_short,
        max(case when preference_key = 'mail_to' then preference_value end) as mail_to
    from latest_first
    where recency = 1
    group by customer_id
)

select * from final
