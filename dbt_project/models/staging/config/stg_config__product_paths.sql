with

source as (
    select * from {{ source('config', 'product_paths') }}
),

final as (
    select
        {{ normalise_code('segment_code') }} as segment_code,
        trim(product_id) as product_id,
        path_position
    from source
)

select * from final
