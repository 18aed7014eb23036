-- Lift of every offer against its random control group: hard-response rate of treated
-- contacts minus that of control-group records (both attributed within the attribution
-- window), with the cost per treated hard response.
with

contacts as (
    select
        contact_id,
        offer_id,
        is_control,
        contact_cost
    from campaign.fct_contact
),

hard_responses as (
    select distinct
        contact_id
    from campaign.fct_response
    where response_class = 'hard'
        and contact_id is not null
),

per_offer as (
    select
        contacts.offer_id,
        count(*) filter (where not contacts.is_control) as n_treated,
        count(hard_responses.contact_id) filter (where not contacts.is_control) as n_treated_hard,
        count(*) filter (where contacts.is_control) as n_control,
        count(hard_responses.contact_id) filter (where contacts.is_control) as n_control_hard,
        sum(contacts.contact_cost) as total_cost
    from contacts
    left join hard_responses
        on contacts.contact_id = hard_responses.contact_id
    group by contacts.offer_id
),

rates as (
    select
        per_offer.*,
        per_offer.n_treated_hard / nullif(per_offer.n_treated, 0) as treated_rate,
        per_offer.n_control_hard / nullif(per_offer.n_control, 0) as control_rate
    from per_offer
)

select
    offers.campaign_id,
    rates.offer_id,
    offers.offer_name,
    offers.product_id,
    rates.n_treated,
    rates.n_control,
    round(rates.treated_rate, 4) as treated_hard_rate,
    round(rates.control_rate, 4) as control_hard_rate,
    round(rates.treated_rate - rates.control_rate, 4) as absolute_lift,
    round(rates.total_cost / nullif(rates.n_treated_hard, 0), 2) as cost_per_hard_response
from rates
inner join core.dim_offer as offers
    on rates.offer_id = offers.offer_id
order by absolute_lift desc nulls last, rates.offer_id
