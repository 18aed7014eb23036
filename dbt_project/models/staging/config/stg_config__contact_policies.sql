with

source as (
    select * from {{ source('config', 'contact_policies') }}
),

final as (
    select
        {{ normalise_code('channel_code') }} as channel_code,
        -- null = no cap
        max_contacts_7d,
        max_contacts_30d,
        coalesce(decline_cooldown_days, 0) as decline_cooldown_days,
        coalesce(suppress_while_complaint_open, true) as suppress_while_complaint_open,
        coalesce(min_days_between_same_product, 0) as min_days_between_same_product
    from source
)

select * from final
