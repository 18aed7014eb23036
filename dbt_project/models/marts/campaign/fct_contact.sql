{#
    One row per contact: an offer presented to a customer on a channel, or withheld from a
    control-group customer (is_control). The customer's attributes are those valid at the
    contact (customer_history_sk). Incremental (merge on contact_id): a run processes the
    contacts loaded since the last run (late contacts with an old contacted_at included; a new
    version of a known contact replaces it) and rewrites the rows written before their
    customer was known or whose offer's campaign or product changed since.
#}
{{ config(
    materialized='incremental',
    unique_key='contact_id',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
) }}

{%- set merge_new_rows_only = incremental_target_has(
    ['customer_history_sk', 'campaign_id', 'product_id', 'loaded_at']
) %}

with

offers as (
    select
        offer_id,
        campaign_id,
        product_id
    from {{ ref('dim_offer') }}
),

channels as (
    select
        channel_code,
        cost_per_contact
    from {{ ref('dim_channel') }}
),

customer_versions as (
    select
        customer_history_sk,
        customer_id,
        effective_from,
        effective_to
    from {{ ref('dim_customer_history') }}
),

{% if merge_new_rows_only %}
last_load as (
    select
        coalesce(max(loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) as loaded_at
    from {{ this }}
),

-- rows written before their offer or customer was known, or whose offer changed since
stale_contacts as (
    select
        facts.contact_id
    from {{ this }} as facts
    left join offers
        on facts.offer_id = offers.offer_id
    where (
        facts.customer_history_sk is null
        and facts.customer_id in (select customer_id from customer_versions)
    )
        or facts.campaign_id is distinct from offers.campaign_id
        or facts.product_id is distinct from offers.product_id
),
{% endif %}

contacts as (
    select
        contact_id,
        customer_id,
        offer_id,
        channel,
        rep_id,
        branch_id,
        segment_code_at_contact,
        cell,
        is_control,
        contacted_at,
        _loaded_at
    from {{ ref('int_contact_segmented') }}
    {% if merge_new_rows_only %}
    where _loaded_at > (select loaded_at from last_load)
        or contact_id in (select contact_id from stale_contacts)
    {% endif %}
),


final as (
    select
        contacts.contact_id,
        contacts.customer_id,
        customer_versions.customer_history_sk,
        contacts.offer_id,
        offers.campaign_id,
        offers.product_id,
        contacts.channel,
        contacts.rep_id,
        contacts.branch_id,
        contacts.segment_code_at_contact,
        contacts.cell,
        contacts.is_control,
        case when contacts.is_control then 0 else channels.cost_per_contact end as contact_cost,
        cast(contacts.contacted_at as date) as contact_date,
        contacts.contacted_at,
        contacts._loaded_at as loaded_at
    from contacts
    left join offers
        on contacts.offer_id = offers.offer_id
    left join channels
        on contacts.channel = channels.channel_code
    left join customer_versions
        on contacts.customer_id = customer_versions.customer_id
        and contacts.contacted_at >= customer_versions.effective_from
        and contacts.contacted_at < customer_versions.effective_to
)

select * from final
