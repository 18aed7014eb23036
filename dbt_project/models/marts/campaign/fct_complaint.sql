{#  One row per complaint: open or closed on the run date, and how long it has been open. #}
with

complaints as (
    select
        complaint_id,
        customer_id,
        category,
        channel,
        opened_at,
        closed_at,
        _loaded_at
    from {{ ref('stg_crm__complaints') }}
),

final as (
    select
        complaint_id,
        customer_id,
        category,
        channel,
        opened_at < {{ run_date_end() }}
            and (closed_at is null or closed_at >= {{ run_date_end() }}) as is_open,
        cast(
            {{ dbt.datediff(
                'cast(opened_at as date)',
                'coalesce(cast(closed_at as date), ' ~ run_date() ~ ')',
                'day'
            ) }} as integer
        ) as days_open,
        cast(opened_at as date) as opened_date,
        cast(closed_at as date) as closed_date,
        opened_at,
        closed_at,
        _loaded_at as loaded_at
    from complaints
)

select * from final
