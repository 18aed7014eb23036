{#
    One row per product holding (customer, product, opening time): when it was opened and
    closed, so that holdings can be counted at any date:
        opened_at < end of day and (closed_at is null or closed_at >= end of day).
#}
with

holdings as (
    select
        holding_sk,
        customer_id,
        product_id,
        status,
        is_active,
        opened_at,
        closed_at,
        _loaded_at
    from {{ ref('stg_core_banking__holdings') }}
),

final as (
    select
        holding_sk,
        customer_id,
        product_id,
        status,
        is_active,
        is_active and opened_at < {{ run_date_end() }} as is_held_on_run_date,
        cast(
            {{ dbt.datediff(
                'cast(opened_at as date)',
                'coalesce(cast(closed_at as date), ' ~ run_date() ~ ')',
                'day'
            ) }} as integer
        ) as holding_days,
        cast(opened_at as date) as opened_date,
        cast(closed_at as date) as closed_date,
        opened_at,
        closed_at,
        _loaded_at as loaded_at
    from holdings
)

select * from final
