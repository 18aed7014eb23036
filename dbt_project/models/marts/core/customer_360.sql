{#
    The one consolidated view of a customer every department uses: one row per core-banking
    customer (inferred members of dim_customer are left out) with demographics, segment, life
    stage, products held, the last contact and response overall and per channel, complaints,
    consent per channel and topic, preferences, scores and alerts, all as of the run date.
#}
with

customers as (
    select
        customer_id,
        customer_history_sk,
        first_name,
        last_name,
        birth_date,
        age,
        age_band_code,
        gender,
        occupation,
        marital_status,
        income_band,
        segment_code,
        segment_name,
        life_stage_code,
        life_stage_name,
        join_reason,
        city,
        region,
        home_branch_id,
        rep_id,
        email_home,
        email_work,
        mobile_phone,
        email_for_detailed,
        email_for_short,
        mail_to,
        latest_scores,
        has_crm_record
    from {{ ref('dim_customer') }}
    where not is_inferred
),

holdings as (
    select
        customer_id,
        product_id,
        is_held_on_run_date,
        opened_at
    from {{ ref('fct_holding') }}
    where opened_at < {{ run_date_end() }}
),

products as (
    select
        product_id,
        category
    from {{ ref('dim_product') }}
),

contacts as (
    select
        customer_id,
        channel,
        offer_id,
        is_control,
        contacted_at
    from {{ ref('fct_contact') }}
    where contacted_at < {{ run_date_end() }}
),

responses as (
    select
        customer_id,
        channel,
        offer_id,
        response_type,
        response_class,
        responded_at
    from {{ ref('fct_response') }}
    where responded_at < {{ run_date_end() }}
),

complaints as (
    select
        customer_id,
        is_open,
        opened_at
    from {{ ref('fct_complaint') }}
    where opened_at < {{ run_date_end() }}
),

life_events as (
    select
        customer_id,
        event_type,
        event_date
    from {{ ref('fct_life_event') }}
    where event_date <= {{ run_date() }}
),

channel_consents as (
    select
        customer_id,
        channel,
        consent_status,
        is_marketing_allowed,
        opted_in_topics,
        opted_out_topics
    from {{ ref('int_customer_channel_consent_derived') }}
),

alerts as (
    select
        customer_id,
        alert_code
    from {{ ref('int_customer_alerts_flagged') }}
),

products_held as (
    select
        holdings.customer_id,
        count(distinct case when holdings.is_held_on_run_date then holdings.product_id end)
            as n_products_held,
        {{ dbt.listagg(
            'distinct case when holdings.is_held_on_run_date then holdings.product_id end',
            "'|'",
            'order by case when holdings.is_held_on_run_date then holdings.product_id end'
        ) }} as held_product_ids,
        {{ dbt.listagg(
            'distinct case when holdings.is_held_on_run_date then products.category end',
            "'|'",
            'order by case when holdings.is_held_on_run_date then products.category end'
        ) }} as held_product_categories,
        cast(min(holdings.opened_at) as date) as customer_since_date
    from holdings
    left join products
        on holdings.product_id = products.product_id
    group by holdings.customer_id
),

-- contacts are the biggest table: aggregate per channel first, rank the few channel rows
contact_channels as (
    select
        customer_id,
        channel,
        count(*) as n_contacts,
        sum(
            case
                when contacted_at >= {{ dbt.dateadd('day', -90, run_date_end()) }} then 1
                else 0
            end
        ) as n_contacts_last_90_days,
        max(contacted_at) as last_contact_at
    from contacts
    where not is_control
    group by customer_id, channel
),

contact_channels_ranked as (
    select
        contact_channels.*,
        row_number() over (
            partition by customer_id order by last_contact_at desc, channel
        ) as recency
    from contact_channels
),

last_contact as (
    select
        contact_channels_ranked.customer_id,
        contact_channels_ranked.channel,
        contact_channels_ranked.last_contact_at,
        min(contacts.offer_id) as offer_id
    from contact_channels_ranked
    inner join contacts
        on contact_channels_ranked.customer_id = contacts.customer_id
        and contact_channels_ranked.channel = contacts.channel
        and contact_channels_ranked.last_contact_at = contacts.contacted_at
    where contact_channels_ranked.recency = 1
        and not contacts.is_control
    group by
        contact_channels_ranked.customer_id,
        contact_channels_ranked.channel,
        contact_channels_ranked.last_contact_at
),

contact_summary as (
    select
        contact_channels.customer_id,
        sum(contact_channels.n_contacts) as n_contacts,
        sum(contact_channels.n_contacts_last_90_days) as n_contacts_last_90_days,
        max(last_contact.last_contact_at) as last_contact_at,
        max(last_contact.channel) as last_contact_channel,
        max(last_contact.offer_id) as last_contact_offer_id,
        {{ json_object_agg(
            'contact_channels.channel',
            'cast(contact_channels.last_contact_at as ' ~ dbt.type_string() ~ ')'
        ) }} as last_contact_at_by_channel
    from contact_channels
    left join last_contact
        on contact_channels.customer_id = last_contact.customer_id
    group by contact_channels.customer_id
),

responses_ranked as (
    select
        responses.*,
        row_number() over (
            partition by customer_id order by responded_at desc, channel, offer_id
        ) as overall_recency,
        row_number() over (
            partition by customer_id, channel order by responded_at desc, offer_id
        ) as channel_recency
    from responses
),

response_summary as (
    select
        customer_id,
        count(*) as n_responses,
        sum(case when response_class = 'hard' then 1 else 0 end) as n_hard_responses,
        max(case when overall_recency = 1 then responded_at end) as last_response_at,
        max(case when overall_recency = 1 then channel end) as last_response_channel,
        max(case when overall_recency = 1 then response_type end) as last_response_type,
        max(case when overall_recency = 1 then response_class end) as last_response_class,
        max(case when response_class = 'hard' then responded_at end) as last_hard_response_at,
        {{ json_object_agg(
            'case when channel_recency = 1 then channel end',
            'case when channel_recency = 1 then response_type end'
        ) }} as last_response_type_by_channel,
        {{ json_object_agg(
            'case when channel_recency = 1 then channel end',
            'case when channel_recency = 1 then cast(responded_at as ' ~ dbt.type_string() ~ ') end'
        ) }} as last_response_at_by_channel
    from responses_ranked
    group by customer_id
),

complaint_summary as (
    select
        customer_id,
        count(*) as n_complaints,
        sum(case when is_open then 1 else 0 end) as n_open_complaints,
        max(opened_at) as last_complaint_at
    from complaints
    group by customer_id
),

life_events_ranked as (
    select
        life_events.*,
        row_number() over (
            partition by customer_id order by event_date desc, event_type
        ) as recency
    from life_events
),

life_event_summary as (
    select
        customer_id,
        max(case when recency = 1 then event_type end) as last_life_event_type,
        max(case when recency = 1 then event_date end) as last_life_event_date
    from life_events_ranked
    group by customer_id
),

consent_summary as (
    select
        customer_id,
        {{ dbt.listagg(
            'case when is_marketing_allowed then channel end', "'|'", 'order by channel'
        ) }} as marketable_channels,
        sum(case when is_marketing_allowed then 1 else 0 end) as n_marketable_channels,
        {{ json_object_agg('channel', 'consent_status') }} as consent_status_by_channel,
        {{ json_object_agg(
            'case when opted_in_topics is not null then channel end', 'opted_in_topics'
        ) }} as opted_in_topics_by_channel,
        {{ json_object_agg(
            'case when opted_out_topics is not null then channel end', 'opted_out_topics'
        ) }} as opted_out_topics_by_channel
    from channel_consents
    group by customer_id
),

alert_summary as (
    select
        customer_id,
        {{ dbt.listagg('alert_code', "'|'", 'order by alert_code') }} as alerts,
        count(*) as n_alerts,
        max(case when alert_code = 'recent_life_event' then 1 else 0 end) = 1
            as has_recent_life_event,
        max(case when alert_code = 'open_complaint' then 1 else 0 end) = 1
            as has_open_complaint,
        max(case when alert_code = 'recent_decline' then 1 else 0 end) = 1
            as has_recent_decline,
        max(case when alert_code = 'recent_hard_response' then 1 else 0 end) = 1
            as has_recent_hard_response
    from alerts
    group by customer_id
),

final as (
    select
        customers.customer_id,
        customers.customer_history_sk,
        customers.first_name,
        customers.last_name,
        customers.birth_date,
        customers.age,
        customers.age_band_code,
        customers.gender,
        customers.occupation,
        customers.marital_status,
        customers.income_band,
        customers.segment_code,
        customers.segment_name,
        customers.life_stage_code,
        customers.life_stage_name,
        customers.join_reason,
        customers.city,
        customers.region,
        customers.home_branch_id,
        customers.rep_id,
        customers.email_home,
        customers.email_work,
        customers.mobile_phone,
        customers.email_for_detailed,
        customers.email_for_short,
        customers.mail_to,
        customers.has_crm_record,
        products_held.customer_since_date,
        cast(coalesce(products_held.n_products_held, 0) as integer) as n_products_held,
        nullif(products_held.held_product_ids, '') as held_product_ids,
        nullif(products_held.held_product_categories, '') as held_product_categories,
        cast(coalesce(contact_summary.n_contacts, 0) as integer) as n_contacts,
        cast(coalesce(contact_summary.n_contacts_last_90_days, 0) as integer)
            as n_contacts_last_90_days,
        contact_summary.last_contact_at,
        contact_summary.last_contact_channel,
        contact_summary.last_contact_offer_id,
        contact_summary.last_contact_at_by_channel,
        cast(coalesce(response_summary.n_responses, 0) as integer) as n_responses,
        cast(coalesce(response_summary.n_hard_responses, 0) as integer) as n_hard_responses,
        response_summary.last_response_at,
        response_summary.last_response_channel,
        response_summary.last_response_type,
        response_summary.last_response_class,
        response_summary.last_hard_response_at,
        response_summary.last_response_type_by_channel,
        response_summary.last_response_at_by_channel,
        cast(coalesce(complaint_summary.n_complaints, 0) as integer) as n_complaints,
        cast(coalesce(complaint_summary.n_open_complaints, 0) as integer) as n_open_complaints,
        complaint_summary.last_complaint_at,
        life_event_summary.last_life_event_type,
        life_event_summary.last_life_event_date,
        nullif(consent_summary.marketable_channels, '') as marketable_channels,
        cast(coalesce(consent_summary.n_marketable_channels, 0) as integer)
            as n_marketable_channels,
        consent_summary.consent_status_by_channel,
        consent_summary.opted_in_topics_by_channel,
        consent_summary.opted_out_topics_by_channel,
        customers.latest_scores,
        alert_summary.alerts,
        cast(coalesce(alert_summary.n_alerts, 0) as integer) as n_alerts,
        coalesce(alert_summary.has_recent_life_event, false) as has_recent_life_event,
        coalesce(alert_summary.has_open_complaint, false) as has_open_complaint,
        coalesce(alert_summary.has_recent_decline, false) as has_recent_decline,
        coalesce(alert_summary.has_recent_hard_response, false) as has_recent_hard_response,
        {{ run_date() }} as as_of_date
    from customers
    left join products_held
        on customers.customer_id = products_held.customer_id
    left join contact_summary
        on customers.customer_id = contact_summary.customer_id
    left join response_summary
        on customers.customer_id = response_summary.customer_id
    left join complaint_summary
        on customers.customer_id = complaint_summary.customer_id
    left join life_event_summary
        on customers.customer_id = life_event_summary.customer_id
    left join consent_summary
        on customers.customer_id = consent_summary.customer_id
    left join alert_summary
        on customers.customer_id = alert_summary.customer_id
)

select * from final
