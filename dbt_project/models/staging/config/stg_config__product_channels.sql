with

source as (
    select * from {{ source('config', 'product_channels') }}
),

final as (
    select
        trim(product_id) as product_id,
        {{ normalise_code('channel_code') }} as channel_code,
        channel_order
    from source
)

select * from final
