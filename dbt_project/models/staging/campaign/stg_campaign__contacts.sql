-- A table, not a view: the deduplication of this large event log runs once per build, not once
-- per reader (intermediate models and tests read it several times).
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('campaign', 'contacts') }}
),

renamed as (
    select
        trim(contact_id) as contact_id,
        trim(customer_id) as customer_id,
        trim(offer_id) as offer_id,
        {{ normalise_code('channel') }} as channel,
        {{ normalise_text('rep_id') }} as rep_id,
        {{ normalise_text('branch_id') }} as branch_id,
        coalesce({{ normalise_text('cell') }}, 'A') as cell,
        coalesce(is_control, false) as is_control,
        contacted_at,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'contact_id', 'contacted_at desc, ' ~ load_order_desc()) }}
),

final as (
    select
        contact_id,
        customer_id,
        offer_id,
        channel,
        rep_id,
        branch_id,
        cell,
        is_control,
        contacted_at,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
