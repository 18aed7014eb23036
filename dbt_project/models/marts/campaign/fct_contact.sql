{#
    One row per contact: an offer presented to a customer on a channel, or withheld from a
    control-group customer (is_control). Incremental (merge on contact_id): a run processes
    the contacts loaded since the last run (late contacts with an old contacted_at included,
    a new version of a known contact replaces it) and the contacts of offers reloaded since.
    The customer's attributes are those valid at the contact (customer_history_sk).
#}
{{ config(
    materialized='incremental',
    unique_key='contact_id',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
) }}

with

offer_loads as (
    select
        offer_id,
        _loaded_at
    from {{ ref('stg_campaign__offers') }}
),

{% if is_incremental() %}
last_load as (
    select
        max(loaded_at) as loaded_at
    from {{ this }}
),

reloaded_offers as (
    select
        offer_id
    from offer_loads
    where _loaded_at >= (select loaded_at from last_load)
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
    {% if is_incremental() %}
    where _loaded_at >= (select loaded_at from last_load)
        or offer_id in (select offer_id from reloaded_offers)
    {% endif %}
),

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
