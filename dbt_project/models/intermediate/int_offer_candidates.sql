{#
    The eligibility rules of the next-best-offer (CONTRACTS.md "Consent rule" is law):
    an active offer on one of its channels, for a product on the customer's segment path that
    the customer does not hold, on a channel the customer's consent allows for the product's
    category, without a response to the same offer in the suppression window, and no open
    complaint.
#}
with

offer_channels as (
    select
        offer_id,
        channel,
        campaign_id,
        product_id,
        product_category,
        requires_opt_in,
        cells,
        control_rate,
        product_value
    from {{ ref('int_offer_channels_active') }}
),

customer_segments as (
    select
        customer_id,
        segment_code
    from {{ ref('int_customer_segment_assigned') }}
    where segment_code is not null
),

product_paths as (
    select
        segment_code,
        product_id,
        path_position
    from {{ ref('stg_config__product_paths') }}
),

active_holdings as (
    select distinct
        customer_id,
        product_id
    from {{ ref('stg_core_banking__holdings') }}
    where is_active
        and opened_at < {{ run_date_end() }}
),

current_consents as (
    select
        customer_id,
        channel,
        topic,
        status
    from {{ ref('int_consent_current') }}
),

settings as (
    select
        response_suppression_days
    from {{ ref('stg_config__decision_settings') }}
),

responses as (
    select
        customer_id,
        offer_id,
        responded_at
    from {{ ref('stg_campaign__responses') }}
    where responded_at < {{ run_date_end() }}
),

complaints as (
    select
        customer_id,
        opened_at,
        closed_at
    from {{ ref('stg_crm__complaints') }}
),

recently_responded as (
    select distinct
        responses.customer_id,
        responses.offer_id
    from responses
    cross join settings
    where responses.responded_at >= {{ dbt.dateadd(
        'day', '-1 * settings.response_suppression_days', run_date()
    ) }}
),

open_complaints as (
    select distinct
        customer_id
    from complaints
    where opened_at < {{ run_date_end() }}
        and (closed_at is null or closed_at >= {{ run_date_end() }})
),

on_path as (
    select
        customer_segments.customer_id,
        customer_segments.segment_code,
        product_paths.product_id,
        product_paths.path_position
    from customer_segments
    inner join product_paths
        on customer_segments.segment_code = product_paths.segment_code
),

not_yet_held as (
    select
        on_path.customer_id,
        on_path.segment_code,
        on_path.product_id,
        on_path.path_position
    from on_path
    left join active_holdings
        on on_path.customer_id = active_holdings.customer_id
        and on_path.product_id = active_holdings.product_id
    where active_holdings.customer_id is null
),

without_complaint as (
    select
        not_yet_held.customer_id,
        not_yet_held.segment_code,
        not_yet_held.product_id,
        not_yet_held.path_position
    from not_yet_held
    left join open_complaints
        on not_yet_held.customer_id = open_complaints.customer_id
    where open_complaints.customer_id is null
),

offer_reach as (
    select
        without_complaint.customer_id,
        offer_channels.offer_id,
        offer_channels.channel,
        offer_channels.campaign_id,
        offer_channels.product_id,
        offer_channels.product_category,
        without_complaint.segment_code,
        without_complaint.path_position,
        offer_channels.requires_opt_in,
        offer_channels.cells,
        offer_channels.control_rate,
        offer_channels.product_value
    from without_complaint
    inner join offer_channels
        on without_complaint.product_id = offer_channels.product_id
),

not_recently_responded as (
    select offer_reach.*
    from offer_reach
    left join recently_responded
        on offer_reach.customer_id = recently_responded.customer_id
        and offer_reach.offer_id = recently_responded.offer_id
    where recently_responded.customer_id is null
),

with_consent as (
    select
        not_recently_responded.*,
        consent_all.status as consent_status_all,
        consent_topic.status as consent_status_topic
    from not_recently_responded
    left join current_consents as consent_all
        on not_recently_responded.customer_id = consent_all.customer_id
        and not_recently_responded.channel = consent_all.channel
        and consent_all.topic = 'all'
    left join current_consents as consent_topic
        on not_recently_responded.customer_id = consent_topic.customer_id
        and not_recently_responded.channel = consent_topic.channel
        and not_recently_responded.product_category = consent_topic.topic
),

consent_allowed as (
    select *
    from with_consent
    where coalesce(consent_status_all, 'none') <> 'opt_out'
        and coalesce(consent_status_topic, 'none') <> 'opt_out'
        and (
            not requires_opt_in
            or consent_status_all = 'opt_in'
            or consent_status_topic = 'opt_in'
        )
),

final as (
    select
        customer_id,
        offer_id,
        channel,
        campaign_id,
        product_id,
        product_category,
        segment_code,
        path_position,
        requires_opt_in,
        consent_status_all,
        consent_status_topic,
        cells,
        control_rate,
        product_value
    from consent_allowed
)

select * from final
