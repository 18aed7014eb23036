{#
    A table, not a view (the staging default): one row per consent event, several per customer.
    As a view, the deduplication and the md5 key were computed again by each of its 6 data tests
    and by each reader (int_consent_current, dim_channel); as a table, once per run.
#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('crm', 'consents') }}
),

renamed as (
    select
        trim(customer_id) as customer_id,
        {{ normalise_code('channel') }} as channel,
        -- a consent without a topic covers every product category
        coalesce({{ normalise_code('topic') }}, 'all') as topic,
        {{ normalise_code('status') }} as status,
        {{ normalise_code('source_channel') }} as source_channel,
        recorded_at,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate(
        'renamed',
        'customer_id, channel, topic, recorded_at',
        'recorded_at desc, ' ~ load_order_desc()
    ) }}
),

final as (
    select
        {{ surrogate_key(['customer_id', 'channel', 'topic', 'recorded_at']) }} as consent_event_sk,
        customer_id,
        channel,
        topic,
        status,
        source_channel,
        recorded_at,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
