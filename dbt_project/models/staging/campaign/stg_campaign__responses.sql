-- A table, not a view: the deduplication of this large event log runs once per build, not once
-- per reader (intermediate models and tests read it several times).
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('campaign', 'responses') }}
),

renamed as (
    select
        trim(response_id) as response_id,
        trim(customer_id) as customer_id,
        trim(offer_id) as offer_id,
        {{ normalise_text('contact_id') }} as contact_id,
        {{ normalise_code('channel') }} as channel,
        {{ normalise_code('response_type') }} as response_type,
        {{ normalise_text('rep_id') }} as rep_id,
        {{ normalise_text('branch_id') }} as branch_id,
        responded_at,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'response_id', 'responded_at desc, ' ~ load_order_desc()) }}
),

final as (
    select
        response_id,
        customer_id,
        offer_id,
        contact_id,
        channel,
        response_type,
        rep_id,
        branch_id,
        responded_at,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
