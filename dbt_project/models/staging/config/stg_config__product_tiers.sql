with

source as (
    select * from {{ source('config', 'product_tiers') }}
),

final as (
    select
        trim(product_id) as product_id,
        {{ normalise_code('tier') }} as tier
    from source
)

select * from final
