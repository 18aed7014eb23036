{#
    Default, model-agnostic propensity per (segment, product, channel): the hard-response rate
    of treated contacts, smoothed towards the overall treated hard rate with
    propensity_prior_contacts pseudo-contacts. Every (segment, product on its path, channel)
    gets a row; without history the propensity is the overall rate.
#}
with

contacts as (
    select
        contact_id,
        offer_id,
        channel,
        segment_code_at_contact
    from {{ ref('int_contact_segmented') }}
    where not is_control
        and segment_code_at_contact is not null
        and contacted_at < {{ run_date_end() }}
),

offers as (
    select
        offer_id,
        product_id
    from {{ ref('stg_campaign__offers') }}
),

responses as (
    select
        contact_id,
        response_type
    from {{ ref('int_response_attributed') }}
    where contact_id is not null
        and responded_at < {{ run_date_end() }}
),

response_types as (
    select
        response_type,
        response_class
    from {{ ref('stg_config__response_types') }}
),

product_paths as (
    select
        segment_code,
        product_id
    from {{ ref('stg_config__product_paths') }}
),

channels as (
    select
        channel_code
    from {{ ref('stg_config__channels') }}
),

settings as (
    select
        propensity_prior_contacts
    from {{ ref('stg_config__decision_settings') }}
),

hard_responded_contacts as (
    select distinct
        responses.contact_id
    from responses
    inner join response_types
        on responses.response_type = response_types.response_type
    where response_types.response_class = 'hard'
),

treated_contacts as (
    select
        contacts.segment_code_at_contact as segment_code,
        offers.product_id,
        contacts.channel,
        case when hard_responded_contacts.contact_id is not null then 1 else 0 end as is_hard
    from contacts
    inner join offers
        on contacts.offer_id = offers.offer_id
    left join hard_responded_contacts
        on contacts.contact_id = hard_responded_contacts.contact_id
),

history as (
    select
        segment_code,
        product_id,
        channel,
        count(*) as n_treated_contacts,
        sum(is_hard) as n_hard_responders
    from treated_contacts
    group by segment_code, product_id, channel
),

overall as (
    select
        coalesce(
            cast(sum(n_hard_responders) as double) / nullif(sum(n_treated_contacts), 0),
            0
        ) as overall_hard_rate
    from history
),

combinations as (
    select
        product_paths.segment_code,
        product_paths.product_id,
        channels.channel_code as channel
    from product_paths
    cross join channels
),

final as (
    select
        combinations.segment_code,
        combinations.product_id,
        combinations.channel,
        coalesce(history.n_treated_contacts, 0) as n_treated_contacts,
        coalesce(history.n_hard_responders, 0) as n_hard_responders,
        overall.overall_hard_rate,
        (
            coalesce(history.n_hard_responders, 0)
            + settings.propensity_prior_contacts * overall.overall_hard_rate
        ) / nullif(
            coalesce(history.n_treated_contacts, 0) + settings.propensity_prior_contacts, 0
        ) as propensity
    from combinations
    cross join overall
    cross join settings
    left join history
        on combinations.segment_code = history.segment_code
        and combinations.product_id = history.product_id
        and combinations.channel = history.channel
)

select * from final
