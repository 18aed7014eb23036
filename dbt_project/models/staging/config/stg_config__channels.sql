with

source as (
    select * from {{ source('config', 'channels') }}
),

final as (
    select
        {{ normalise_code('channel_code') }} as channel_code,
        channel_name,
        coalesce(requires_opt_in, false) as requires_opt_in,
        -- null = unlimited
        daily_capacity,
        cost_per_contact,
        {{ normalise_code('contact_fields') }} as contact_fields,
        {{ normalise_code('message_kind') }} as message_kind
    from source
)

select * from final
