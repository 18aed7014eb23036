{#
    Incremental, not a view: this large event log is deduplicated once, not once per reader, and
    a day's run re-deduplicates only the contact_ids that have a version loaded since the last
    run (every raw version of those keys, so the latest still wins), not the whole history.
#}
{{ config(
    materialized='incremental',
    unique_key='contact_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

with

source as (
    select * from {{ source('campaign', 'contacts') }}
),

{% if is_incremental() %}
last_load as (
    select
        coalesce(max(_loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) as loaded_at
    from {{ this }}
),

changed_keys as (
    select distinct
        trim(contact_id) as contact_id
    from source
    where _loaded_at > (select loaded_at from last_load)
),
{% endif %}

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
    {% if is_incremental() %}
    where trim(contact_id) in (select contact_id from changed_keys)
    {% endif %}
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
