with

source as (
    select * from {{ source('crm', 'complaints') }}
),

renamed as (
    select
        trim(complaint_id) as complaint_id,
        trim(customer_id) as customer_id,
        {{ normalise_code('category') }} as category,
        {{ normalise_code('channel') }} as channel,
        opened_at,
        closed_at,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'complaint_id', load_order_desc()) }}
),

final as (
    select
        complaint_id,
        customer_id,
        category,
        channel,
        opened_at,
        closed_at,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
