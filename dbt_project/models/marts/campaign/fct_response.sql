{#
    One row per response on any channel, classified soft/hard/negative by the response-type
    configuration and attributed to the contact it answers (int_response_attributed: the
    given contact, else a contact of the same customer and offer within
    attribution_window_days drawn in proportion to how plausible its lag is; unattributed
    responses are kept and flagged). Lag = time from the contact to the response.
    Incremental (merge on response_id): a run processes the responses loaded since the last
    run and rewrites the rows not attributed to the contact the source gave (a contact
    arriving late picks up its responses), written before their customer was known, or whose
    offer or response class changed since.
#}
{{ config(
    materialized='incremental',
    unique_key='response_id',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
) }}

{%- set merge_new_rows_only = incremental_target_has([
    'customer_history_sk', 'is_attributed', 'given_contact_id', 'attribution_status',
    'response_class', 'campaign_id', 'product_id', 'loaded_at',
]) %}

with

response_types as (
    select
        response_type,
        response_class,
        funnel_step
    from {{ ref('stg_config__response_types') }}
),

offers as (
    select
        offer_id,
        campaign_id,
        product_id
    from {{ ref('dim_offer') }}
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

-- rows not attributed to the contact the source gave (it may arrive late), written before
-- their customer was known, or whose offer or response class changed since
stale_responses as (
    select
        facts.response_id
    from {{ this }} as facts
    left join offers
        on facts.offer_id = offers.offer_id
    left join response_types
        on facts.response_type = response_types.response_type
    where not facts.is_attributed
        or (facts.given_contact_id is not null and facts.attribution_status <> 'given')
        or (
            facts.customer_history_sk is null
            and facts.customer_id in (select customer_id from customer_versions)
        )
        or facts.campaign_id is distinct from offers.campaign_id
        or facts.product_id is distinct from offers.product_id
        or facts.response_class is distinct from response_types.response_class
),
{% endif %}

responses as (
    select
        response_id,
        customer_id,
        offer_id,
        contact_id,
        given_contact_id,
        attribution_status,
        unattributed_reason,
        channel,
        contact_channel,
        is_control_contact,
        response_type,
        rep_id,
        branch_id,
        contacted_at,
        responded_at,
        _loaded_at
    from {{ ref('int_response_attributed') }}
    {% if merge_new_rows_only %}
    where _loaded_at > (select loaded_at from last_load)
        or response_id in (select response_id from stale_responses)
    {% endif %}
),


final as (
    select
        responses.response_id,
        responses.customer_id,
        customer_versions.customer_history_sk,
        responses.offer_id,
        offers.campaign_id,
        offers.product_id,
        responses.contact_id,
        responses.given_contact_id,
        responses.channel,
        responses.contact_channel,
        responses.response_type,
        response_types.response_class,
        cast(response_types.funnel_step as integer) as funnel_step,
        responses.attribution_status,
        responses.unattributed_reason,
        responses.contact_id is not null as is_attributed,
        coalesce(responses.is_control_contact, false) as is_control_contact,
        coalesce(responses.channel <> responses.contact_channel, false) as is_cross_channel,
        cast(
            {{ dbt.datediff('responses.contacted_at', 'responses.responded_at', 'second') }}
            as double
        ) / 3600 as response_lag_hours,
        cast(
            {{ dbt.datediff(
                'cast(responses.contacted_at as date)',
                'cast(responses.responded_at as date)',
                'day'
            ) }} as integer
        ) as response_lag_days,
        responses.rep_id,
        responses.branch_id,
        cast(responses.responded_at as date) as response_date,
        responses.contacted_at,
        responses.responded_at,
        responses._loaded_at as loaded_at
    from responses
    left join response_types
        on responses.response_type = response_types.response_type
    left join offers
        on responses.offer_id = offers.offer_id
    left join customer_versions
        on responses.customer_id = customer_versions.customer_id
        and responses.responded_at >= customer_versions.effective_from
        and responses.responded_at < customer_versions.effective_to
)

select * from final
