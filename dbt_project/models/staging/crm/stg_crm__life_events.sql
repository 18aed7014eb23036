with

source as (
    select * from {{ source('crm', 'life_events') }}
),

renamed as (
    select
        trim(customer_id) as customer_id,
        {{ normalise_code('event_type') }} as event_type,
        event_date,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'customer_id, event_type, event_date', load_order_desc()) }}
),

final as (
    select
        {{ surrogate_key(['customer_id', 'event_type', 'event_date']) }} as life_event_sk,
        customer_id,
        event_type,
        event_date,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
