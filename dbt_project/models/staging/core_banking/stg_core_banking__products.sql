with

source as (
    select * from {{ source('core_banking', 'products') }}
),

renamed as (
    select
        trim(product_id) as product_id,
        {{ normalise_text('product_name') }} as product_name,
        {{ normalise_code('category') }} as category,
        {{ normalise_code('tier') }} as tier,
        value as product_value,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'product_id', load_order_desc()) }}
),

final as (
    select
        product_id,
        product_name,
        category,
        tier,
        product_value,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
