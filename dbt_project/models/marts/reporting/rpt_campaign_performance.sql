{#
    One row per contact date, campaign, offer, product, channel, branch, customer region and
    city (at the contact), sales rep, A/B cell and control flag: how many contacts were made and
    how many of them drew a soft, hard or negative response (a contact counts once per class,
    through fct_response.contact_id), the value of the hard responders (product value of one
    acceptance) and the contact cost. Counts add up across any dimension; rates are for the row.
#}
with

contacts as (
    select
        contact_id,
        customer_history_sk,
        offer_id,
        campaign_id,
        product_id,
        channel,
        branch_id,
        rep_id,
        cell,
        is_control,
        contact_cost,
        contact_date
    from {{ ref('fct_contact') }}
),

responses as (
    select
        contact_id,
        response_class
    from {{ ref('fct_response') }}
    where contact_id is not null
),

customer_versions as (
    select
        customer_history_sk,
        city,
        region
    from {{ ref('dim_customer_history') }}
),

products as (
    select
        product_id,
        product_value
    from {{ ref('dim_product') }}
),

contact_outcomes as (
    select
        contact_id,
        max(case when response_class = 'soft' then 1 else 0 end) as has_soft,
        max(case when response_class = 'hard' then 1 else 0 end) as has_hard,
        max(case when response_class = 'negative' then 1 else 0 end) as has_negative
    from responses
    group by contact_id
),

contacts_with_outcomes as (
    select
        contacts.contact_date,
        contacts.campaign_id,
        contacts.offer_id,
        contacts.product_id,
        contacts.channel,
        contacts.branch_id,
        customer_versions.region,
        customer_versions.city,
        contacts.rep_id,
        contacts.cell,
        contacts.is_control,
        coalesce(contact_outcomes.has_soft, 0) as has_soft,
        coalesce(contact_outcomes.has_hard, 0) as has_hard,
        coalesce(contact_outcomes.has_negative, 0) as has_negative,
        coalesce(contact_outcomes.has_hard, 0) * coalesce(products.product_value, 0)
            as hard_value,
        contacts.contact_cost
    from contacts
    left join contact_outcomes
        on contacts.contact_id = contact_outcomes.contact_id
    left join customer_versions
        on contacts.customer_history_sk = customer_versions.customer_history_sk
    left join products
        on contacts.product_id = products.product_id
),

aggregated as (
    select
        contact_date,
        campaign_id,
        offer_id,
        product_id,
        channel,
        branch_id,
        region,
        city,
        rep_id,
        cell,
        is_control,
        count(*) as n_contacts,
        sum(has_soft) as n_soft_responders,
        sum(has_hard) as n_hard_responders,
        sum(has_negative) as n_negative_responders,
        sum(hard_value) as hard_response_value,
        sum(contact_cost) as contact_cost
    from contacts_with_outcomes
    group by
        contact_date,
        campaign_id,
        offer_id,
        product_id,
        channel,
        branch_id,
        region,
        city,
        rep_id,
        cell,
        is_control
),

final as (
    select
        {{ surrogate_key([
            'contact_date', 'campaign_id', 'offer_id', 'product_id', 'channel', 'branch_id',
            'region', 'city', 'rep_id', 'cell', 'is_control',
        ]) }} as performance_sk,
        contact_date,
        campaign_id,
        offer_id,
        product_id,
        channel,
        branch_id,
        region,
        city,
        rep_id,
        cell,
        is_control,
        cast(n_contacts as bigint) as n_contacts,
        cast(n_soft_responders as bigint) as n_soft_responders,
        cast(n_hard_responders as bigint) as n_hard_responders,
        cast(n_negative_responders as bigint) as n_negative_responders,
        cast(n_soft_responders as double) / n_contacts as soft_response_rate,
        cast(n_hard_responders as double) / n_contacts as hard_response_rate,
        cast(n_negative_responders as double) / n_contacts as negative_response_rate,
        cast(hard_response_value as double) as hard_response_value,
        cast(contact_cost as double) as contact_cost
    from aggregated
)

select * from final
