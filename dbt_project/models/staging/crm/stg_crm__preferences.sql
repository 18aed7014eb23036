{#
    A table, not a view (the staging default): one row per preference event. As a view, the
    deduplication and the md5 key were computed again by each of its 4 data tests and by its
    reader (int_preference_current); as a table, once per run.
#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('crm', 'preferences') }}
),

renamed as (
    select
        trim(customer_id) as customer_id,
        {{ normalise_code('key') }} as preference_key,
        {{ normalise_code('value') }} as preference_value,
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
        'customer_id, preference_key, recorded_at',
        'recorded_at desc, ' ~ load_order_desc()
    ) }}
),

final as (
    select
        {{ surrogate_key(['customer_id', 'preference_key', 'recorded_at']) }}
            as preference_event_sk,
        customer_id,
        preference_key,
        preference_value,
        recorded_at,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
