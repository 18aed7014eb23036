{#
    Every (customer, offer, channel) the decision step considers on the run date, with the
    facts each suppression rule needs and `suppression_reason`: the first rule that removes
    the candidate before arbitration, checked in this order (null = passes them all):

        off_path, already_held, no_consent, topic_opt_out, open_complaint,
        responded_recently, declined_cooldown, frequency_cap, offer_not_active

    Candidate set (kept bounded: no customer x every offer cross product):
    - on path: every customer with a segment x every offer (active, or within
      eligibility_log_window_days of the run date) of a product on the segment's path;
    - off path: only (customer, offer) pairs the customer was contacted with in the last
      eligibility_log_window_days although the product is not on the customer's path now
      (e.g. the customer changed segment); any other off-path pair simply has no row.
    Channels: those the offer lists and the product's channel rules allow.

    Consent (CONTRACTS.md): no_consent = `all` opt-out, or an opt-in channel without a current
    opt-in for `all` or the category; topic_opt_out = opt-out of the product's category.
    Day windows count whole days before the run date (d = run_date - event date):
    frequency caps count non-control contacts with d in 1..6 (7 days incl. today) and 1..29
    (30 days incl. today); today's own decisions are added by the arbitration
    (int_offer_arbitrated), and today's contacts written back by an earlier run of the same day
    are not counted, so a re-run decides the same. Same-product spacing: a non-control contact
    of the product on any channel with d < min_days_between_same_product. Decline cool-down: a
    negative response to any offer of the product, on any channel, with
    d < decline_cooldown_days (the candidate channel's policy).

    Scope (macros/decision_scope.sql): the daily run rebuilds every customer's rows; an
    intraday run (decision scope `responses`) replaces only the rows of the customers with a
    response loaded since the day's full decision (responses_loaded_through, kept), and marks
    them is_redecided_intraday: the rows fct_offer_eligibility and nbo then revisit.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='append_new_columns',
    full_refresh=decision_scope() != 'responses',
) }}
{%- set scoped = is_response_scoped() and incremental_target_has(
    ['run_date', 'responses_loaded_through', 'is_redecided_intraday']
) %}
with

{%- if scoped %}
-- the customers this intraday run re-decides
scope_customers as (
    {{ response_scope_customers(this) }}
),

{% endif %}
offer_channels as (
    select
        offer_id,
        channel,
        campaign_id,
        product_id,
        product_category,
        product_tier,
        is_offer_active,
        channel_order,
        requires_opt_in,
        cost_per_contact,
        cells,
        control_rate,
        product_value
    from {{ ref('int_offer_channels_expanded') }}
),

customer_segments as (
    select
        customer_id,
        segment_code
    from {{ ref('int_customer_segment_assigned') }}
    where segment_code is not null
    {%- if scoped %}
        and customer_id in (select customer_id from scope_customers)
    {%- endif %}
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
    {%- if scoped %}
        and customer_id in (select customer_id from scope_customers)
    {%- endif %}
),

current_consents as (
    select
        customer_id,
        channel,
        topic,
        status
    from {{ ref('int_consent_current') }}
    {%- if scoped %}
    where customer_id in (select customer_id from scope_customers)
    {%- endif %}
),

settings as (
    select
        response_suppression_days,
        eligibility_log_window_days,
        propensity_weight,
        value_weight,
        cost_weight
    from {{ ref('stg_config__decision_settings') }}
),

contact_policies as (
    select
        channel_code,
        max_contacts_7d,
        max_contacts_30d,
        decline_cooldown_days,
        suppress_while_complaint_open,
        min_days_between_same_product
    from {{ ref('stg_config__contact_policies') }}
),

-- which contact fields a channel needs (contact_fields: pipe list; null = none checked)
channels as (
    select
        channel_code,
        contact_fields is not null as checks_contact_fields,
        coalesce({{ pipe_list_contains('contact_fields', "'email'") }}, false) as needs_email,
        coalesce({{ pipe_list_contains('contact_fields', "'mobile_phone'") }}, false)
            as needs_mobile_phone,
        coalesce({{ pipe_list_contains('contact_fields', "'postal_address'") }}, false)
            as needs_postal_address,
        coalesce({{ pipe_list_contains('contact_fields', "'home_branch_id'") }}, false)
            as needs_home_branch,
        coalesce({{ pipe_list_contains('contact_fields', "'rep_id'") }}, false) as needs_rep
    from {{ ref('stg_config__channels') }}
),

response_types as (
    select
        response_type,
        response_class
    from {{ ref('stg_config__response_types') }}
),

all_offers as (
    select
        offer_id,
        product_id
    from {{ ref('stg_campaign__offers') }}
),

responses as (
    select
        customer_id,
        offer_id,
        response_type,
        responded_at
    from {{ ref('stg_campaign__responses') }}
    where responded_at < {{ run_date_end() }}
    {%- if scoped %}
        and customer_id in (select customer_id from scope_customers)
    {%- endif %}
),

-- the newest response load the decision saw (kept by an intraday run: the day's watermark)
response_watermark as (
    select
        {%- if scoped %}
        min(responses_loaded_through) as responses_loaded_through
    from {{ this }}
        {%- else %}
        max(_loaded_at) as responses_loaded_through
    from {{ ref('stg_campaign__responses') }}
        {%- endif %}
),

complaints as (
    select
        customer_id,
        opened_at,
        closed_at
    from {{ ref('stg_crm__complaints') }}
    {%- if scoped %}
    where customer_id in (select customer_id from scope_customers)
    {%- endif %}
),

-- contact history before the run date (today's write-back of a re-run is not counted)
past_contacts as (
    select
        customer_id,
        offer_id,
        product_id,
        channel,
        is_control,
        contact_date
    from {{ ref('fct_contact') }}
    where contact_date < {{ run_date() }}
        -- the longest window a policy may use (min_days_between_same_product <= 365)
        and contact_date >= {{ dbt.dateadd('day', -366, run_date()) }}
        {%- if scoped %}
        and customer_id in (select customer_id from scope_customers)
        {%- endif %}
),

-- which contact fields a customer has (one row per customer, not per candidate)
customers as (
    select
        customer_id,
        coalesce(email_home, email_work) is not null as has_email,
        mobile_phone is not null as has_mobile_phone,
        coalesce(home_address, work_address) is not null as has_postal_address,
        home_branch_id is not null as has_home_branch,
        rep_id is not null as has_rep
    from {{ ref('dim_customer') }}
    {%- if scoped %}
    where customer_id in (select customer_id from scope_customers)
    {%- endif %}
),

propensities as (
    select
        segment_code,
        product_id,
        channel,
        propensity
    from {{ ref('int_propensity_estimated') }}
),

-- the active model's scores (docs/propensity.md); none without an active model
propensity_scores as (
    select
        customer_id,
        product_id,
        channel,
        score
    from {{ ref('propensity_scores') }}
),

-- candidate pairs ---------------------------------------------------------------------------

on_path_pairs as (
    select
        customer_segments.customer_id,
        customer_segments.segment_code,
        product_paths.product_id,
        product_paths.path_position
    from customer_segments
    inner join product_paths
        on customer_segments.segment_code = product_paths.segment_code
),

on_path_candidates as (
    select
        on_path_pairs.customer_id,
        on_path_pairs.segment_code,
        on_path_pairs.path_position,
        true as is_on_path,
        offer_channels.*
    from on_path_pairs
    inner join offer_channels
        on on_path_pairs.product_id = offer_channels.product_id
),

recently_contacted_pairs as (
    select distinct
        past_contacts.customer_id,
        past_contacts.offer_id
    from past_contacts
    cross join settings
    where past_contacts.contact_date >= {{ dbt.dateadd(
        'day', '-1 * settings.eligibility_log_window_days', run_date()
    ) }}
),

off_path_pairs as (
    select
        recently_contacted_pairs.customer_id,
        recently_contacted_pairs.offer_id,
        customer_segments.segment_code
    from recently_contacted_pairs
    inner join all_offers
        on recently_contacted_pairs.offer_id = all_offers.offer_id
    inner join customers
        on recently_contacted_pairs.customer_id = customers.customer_id
    left join customer_segments
        on recently_contacted_pairs.customer_id = customer_segments.customer_id
    left join product_paths
        on customer_segments.segment_code = product_paths.segment_code
        and all_offers.product_id = product_paths.product_id
    where product_paths.product_id is null
),

off_path_candidates as (
    select
        off_path_pairs.customer_id,
        off_path_pairs.segment_code,
        cast(null as integer) as path_position,
        false as is_on_path,
        offer_channels.*
    from off_path_pairs
    inner join offer_channels
        on off_path_pairs.offer_id = offer_channels.offer_id
),

candidates as (
    select * from on_path_candidates
    union all
    select * from off_path_candidates
),

-- facts per rule ------------------------------------------------------------------------------

open_complaints as (
    select distinct
        customer_id
    from complaints
    where opened_at < {{ run_date_end() }}
        and (closed_at is null or closed_at >= {{ run_date_end() }})
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

last_declines as (
    select
        responses.customer_id,
        all_offers.product_id,
        max(cast(responses.responded_at as date)) as last_declined_date
    from responses
    inner join response_types
        on responses.response_type = response_types.response_type
    inner join all_offers
        on responses.offer_id = all_offers.offer_id
    where response_types.response_class = 'negative'
    group by responses.customer_id, all_offers.product_id
),

treated_contacts as (
    select
        customer_id,
        product_id,
        channel,
        {{ dbt.datediff('contact_date', run_date(), 'day') }} as days_ago
    from past_contacts
    where not is_control
),

channel_contact_counts as (
    select
        customer_id,
        channel,
        sum(case when days_ago <= 6 then 1 else 0 end) as n_contacts_7d,
        sum(case when days_ago <= 29 then 1 else 0 end) as n_contacts_30d
    from treated_contacts
    where days_ago <= 29
    group by customer_id, channel
),

last_product_contacts as (
    select
        customer_id,
        product_id,
        min(days_ago) as days_since_product_contact
    from treated_contacts
    where product_id is not null
    group by customer_id, product_id
),

with_facts as (
    select
        candidates.*,
        active_holdings.customer_id is not null as is_held,
        consent_all.status as consent_status_all,
        consent_topic.status as consent_status_topic,
        open_complaints.customer_id is not null as has_open_complaint,
        recently_responded.customer_id is not null as has_responded_recently,
        {{ dbt.datediff('last_declines.last_declined_date', run_date(), 'day') }}
            as days_since_decline,
        coalesce(channel_contact_counts.n_contacts_7d, 0) as n_contacts_7d,
        coalesce(channel_contact_counts.n_contacts_30d, 0) as n_contacts_30d,
        last_product_contacts.days_since_product_contact,
        contact_policies.max_contacts_7d,
        contact_policies.max_contacts_30d,
        contact_policies.decline_cooldown_days,
        contact_policies.suppress_while_complaint_open,
        contact_policies.min_days_between_same_product,
        customers.customer_id is not null as is_known_customer,
        (
            not coalesce(channels.checks_contact_fields, false)
            or (
                (not channels.needs_email or customers.has_email)
                and (not channels.needs_mobile_phone or customers.has_mobile_phone)
                and (not channels.needs_postal_address or customers.has_postal_address)
                and (not channels.needs_home_branch or customers.has_home_branch)
                and (not channels.needs_rep or customers.has_rep)
            )
        ) as has_channel_contact_fields,
        coalesce(propensity_scores.score, propensities.propensity) as propensity
    from candidates
    left join active_holdings
        on candidates.customer_id = active_holdings.customer_id
        and candidates.product_id = active_holdings.product_id
    left join current_consents as consent_all
        on candidates.customer_id = consent_all.customer_id
        and candidates.channel = consent_all.channel
        and consent_all.topic = 'all'
    left join current_consents as consent_topic
        on candidates.customer_id = consent_topic.customer_id
        and candidates.channel = consent_topic.channel
        and candidates.product_category = consent_topic.topic
    left join open_complaints
        on candidates.customer_id = open_complaints.customer_id
    left join recently_responded
        on candidates.customer_id = recently_responded.customer_id
        and candidates.offer_id = recently_responded.offer_id
    left join last_declines
        on candidates.customer_id = last_declines.customer_id
        and candidates.product_id = last_declines.product_id
    left join channel_contact_counts
        on candidates.customer_id = channel_contact_counts.customer_id
        and candidates.channel = channel_contact_counts.channel
    left join last_product_contacts
        on candidates.customer_id = last_product_contacts.customer_id
        and candidates.product_id = last_product_contacts.product_id
    left join contact_policies
        on candidates.channel = contact_policies.channel_code
    left join channels
        on candidates.channel = channels.channel_code
    left join customers
        on candidates.customer_id = customers.customer_id
    left join propensities
        on candidates.segment_code = propensities.segment_code
        and candidates.product_id = propensities.product_id
        and candidates.channel = propensities.channel
    left join propensity_scores
        on candidates.customer_id = propensity_scores.customer_id
        and candidates.product_id = propensity_scores.product_id
        and candidates.channel = propensity_scores.channel
),

flagged as (
    select
        with_facts.*,
        (
            coalesce(consent_status_all, 'none') = 'opt_out'
            or (
                requires_opt_in
                and coalesce(consent_status_all, 'none') <> 'opt_in'
                and coalesce(consent_status_topic, 'none') <> 'opt_in'
            )
        ) as is_without_consent,
        coalesce(consent_status_topic, 'none') = 'opt_out' as is_topic_opted_out,
        coalesce(days_since_decline < decline_cooldown_days, false) as is_in_decline_cooldown,
        (
            coalesce(n_contacts_7d >= max_contacts_7d, false)
            or coalesce(n_contacts_30d >= max_contacts_30d, false)
            or coalesce(days_since_product_contact < min_days_between_same_product, false)
        ) as is_over_frequency_cap,
        -- contacts the channel may still take today for this customer (null = no cap)
        case
            when max_contacts_7d is null and max_contacts_30d is null then null
            when max_contacts_7d is null then max_contacts_30d - n_contacts_30d
            when max_contacts_30d is null then max_contacts_7d - n_contacts_7d
            when max_contacts_7d - n_contacts_7d < max_contacts_30d - n_contacts_30d
                then max_contacts_7d - n_contacts_7d
            else max_contacts_30d - n_contacts_30d
        end as contacts_left_today,
        coalesce(is_known_customer and has_channel_contact_fields, false)
            as has_contact_details
    from with_facts
),

final as (
    select
        {{ run_date() }} as run_date,
        flagged.customer_id,
        flagged.offer_id,
        flagged.channel,
        flagged.campaign_id,
        flagged.product_id,
        flagged.product_category,
        flagged.product_tier,
        flagged.segment_code,
        flagged.path_position,
        flagged.channel_order,
        flagged.is_on_path,
        flagged.is_held,
        flagged.requires_opt_in,
        flagged.consent_status_all,
        flagged.consent_status_topic,
        flagged.has_open_complaint,
        flagged.has_responded_recently,
        flagged.days_since_decline,
        flagged.n_contacts_7d,
        flagged.n_contacts_30d,
        flagged.days_since_product_contact,
        flagged.contacts_left_today,
        flagged.is_offer_active,
        flagged.has_contact_details,
        flagged.cells,
        flagged.control_rate,
        flagged.product_value,
        flagged.cost_per_contact,
        flagged.propensity,
        power(flagged.propensity, settings.propensity_weight)
            * power(coalesce(flagged.product_value, 0), settings.value_weight)
            - settings.cost_weight * coalesce(flagged.cost_per_contact, 0) as score,
        case
            when not flagged.is_on_path then 'off_path'
            when flagged.is_held then 'already_held'
            when flagged.is_without_consent then 'no_consent'
            when flagged.is_topic_opted_out then 'topic_opt_out'
            when flagged.has_open_complaint and flagged.suppress_while_complaint_open
                then 'open_complaint'
            when flagged.has_responded_recently then 'responded_recently'
            when flagged.is_in_decline_cooldown then 'declined_cooldown'
            when flagged.is_over_frequency_cap then 'frequency_cap'
            when not flagged.is_offer_active then 'offer_not_active'
        end as suppression_reason,
        response_watermark.responses_loaded_through,
        {{ 'true' if scoped else 'false' }} as is_redecided_intraday
    from flagged
    cross join settings
    cross join response_watermark
)

select * from final
