with

source as (
    select * from {{ source('campaign', 'offers') }}
),

renamed as (
    select
        trim(offer_id) as offer_id,
        trim(campaign_id) as campaign_id,
        trim(product_id) as product_id,
        {{ normalise_text('offer_name') }} as offer_name,
        -- pipe lists without blanks: 'Email | SMS' -> 'email|sms'
        {{ normalise_code(dbt.replace('channels', "' '", "''")) }} as channels,
        coalesce(nullif({{ dbt.replace('trim(cells)', "' '", "''") }}, ''), 'A') as cells,
        {{ normalise_code('fulfilment_action') }} as fulfilment_action,
        -- null = the default control rate of the decisioning settings
        control_rate,
        valid_from,
        valid_to,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'offer_id', load_order_desc()) }}
),

final as (
    select
        offer_id,
        campaign_id,
        product_id,
        offer_name,
        channels,
        cells,
        fulfilment_action,
        control_rate,
        valid_from,
        valid_to,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
