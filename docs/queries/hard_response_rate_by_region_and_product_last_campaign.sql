-- Hard response rate by region and product for the last campaign (the campaign with the
-- latest start date that has contacts). Region is the customer's region at the contact
-- (dim_customer_history); control-group records are left out of the treated rate and shown
-- as the control rate next to it.
with

last_campaign as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name
    from core.dim_campaign as campaigns
    where campaigns.campaign_id in (select campaign_id from campaign.fct_contact)
    order by campaigns.start_date desc, campaigns.campaign_id desc
    limit 1
),

contacts as (
    select
        contacts.contact_id,
        contacts.product_id,
        contacts.is_control,
        coalesce(versions.region, 'unknown') as region
    from campaign.fct_contact as contacts
    inner join last_campaign
        on contacts.campaign_id = last_campaign.campaign_id
    left join core.dim_customer_history as versions
        on contacts.customer_history_sk = versions.customer_history_sk
),

hard_responses as (
    select distinct
        contact_id
    from campaign.fct_response
    where response_class = 'hard'
        and contact_id is not null
),

per_region_product as (
    select
        contacts.region,
        contacts.product_id,
        count(*) filter (where not contacts.is_control) as n_treated,
        count(hard_responses.contact_id) filter (where not contacts.is_control) as n_treated_hard,
        count(*) filter (where contacts.is_control) as n_control,
        count(hard_responses.contact_id) filter (where contacts.is_control) as n_control_hard
    from contacts
    left join hard_responses
        on contacts.contact_id = hard_responses.contact_id
    group by contacts.region, contacts.product_id
)

select
    last_campaign.campaign_id,
    last_campaign.campaign_name,
    per_region_product.region,
    per_region_product.product_id,
    products.product_name,
    per_region_product.n_treated,
    per_region_product.n_treated_hard,
    round(per_region_product.n_treated_hard / nullif(per_region_product.n_treated, 0), 4)
        as hard_response_rate,
    round(per_region_product.n_control_hard / nullif(per_region_product.n_control, 0), 4)
        as control_hard_response_rate
from per_region_product
cross join last_campaign
left join core.dim_product as products
    on per_region_product.product_id = products.product_id
order by per_region_product.region, per_region_product.product_id
