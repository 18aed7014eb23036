{#
    One row per customer (every customer of dim_customer): how often they were contacted
    (treated and control), how they responded (soft, hard and negative responses on any
    channel, attributed to a contact or not), on how many offers, the value of their hard
    responses, and when they were last contacted and last responded.
#}
with

customers as (
    select
        customer_id
    from {{ ref('dim_customer') }}
),

contacts as (
    select
        customer_id,
        offer_id,
        channel,
        is_control,
        contacted_at
    from {{ ref('fct_contact') }}
),

responses as (
    select
        customer_id,
        offer_id,
        product_id,
        response_class,
        responded_at
    from {{ ref('fct_response') }}
),

products as (
    select
        product_id,
        product_value
    from {{ ref('dim_product') }}
),

contact_summary as (
    select
        customer_id,
        count(*) as n_contacts,
        sum(case when not is_control then 1 else 0 end) as n_treated_contacts,
        sum(case when is_control then 1 else 0 end) as n_control_contacts,
        count(distinct offer_id) as n_offers_contacted,
        count(distinct channel) as n_channels_contacted,
        min(contacted_at) as first_contacted_at,
        max(contacted_at) as last_contacted_at
    from contacts
    group by customer_id
),

response_summary as (
    select
        responses.customer_id,
        count(*) as n_responses,
        sum(case when responses.response_class = 'soft' then 1 else 0 end) as n_soft_responses,
        sum(case when responses.response_class = 'hard' then 1 else 0 end) as n_hard_responses,
        sum(case when responses.response_class = 'negative' then 1 else 0 end)
            as n_negative_responses,
        count(distinct case when responses.response_class = 'hard' then responses.offer_id end)
            as n_offers_accepted,
        sum(
            case when responses.response_class = 'hard' then coalesce(products.product_value, 0)
            else 0 end
        ) as hard_response_value,
        max(responses.responded_at) as last_responded_at,
        max(case when responses.response_class = 'hard' then responses.responded_at end)
            as last_hard_responded_at
    from responses
    left join products
        on responses.product_id = products.product_id
    group by responses.customer_id
),

final as (
    select
        customers.customer_id,
        cast(coalesce(contact_summary.n_contacts, 0) as bigint) as n_contacts,
        cast(coalesce(contact_summary.n_treated_contacts, 0) as bigint) as n_treated_contacts,
        cast(coalesce(contact_summary.n_control_contacts, 0) as bigint) as n_control_contacts,
        cast(coalesce(contact_summary.n_offers_contacted, 0) as bigint) as n_offers_contacted,
        cast(coalesce(contact_summary.n_channels_contacted, 0) as bigint)
            as n_channels_contacted,
        cast(coalesce(response_summary.n_responses, 0) as bigint) as n_responses,
        cast(coalesce(response_summary.n_soft_responses, 0) as bigint) as n_soft_responses,
        cast(coalesce(response_summary.n_hard_responses, 0) as bigint) as n_hard_responses,
        cast(coalesce(response_summary.n_negative_responses, 0) as bigint)
            as n_negative_responses,
        cast(coalesce(response_summary.n_offers_accepted, 0) as bigint) as n_offers_accepted,
        coalesce(response_summary.n_soft_responses, 0) > 0 as is_soft_responder,
        coalesce(response_summary.n_hard_responses, 0) > 0 as is_hard_responder,
        cast(coalesce(response_summary.hard_response_value, 0) as double)
            as hard_response_value,
        contact_summary.first_contacted_at,
        contact_summary.last_contacted_at,
        response_summary.last_responded_at,
        response_summary.last_hard_responded_at
    from customers
    left join contact_summary
        on customers.customer_id = contact_summary.customer_id
    left join response_summary
        on customers.customer_id = response_summary.customer_id
)

select * from final
