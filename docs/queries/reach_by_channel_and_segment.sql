-- How many customers each channel may reach for general marketing, per segment: consent
-- (CONTRACTS.md consent rule) from customer_360, next to the customers with an open
-- complaint, who are suppressed whatever their consent.
with

customer_channels as (
    select
        customers.customer_id,
        customers.segment_code,
        customers.has_open_complaint,
        channels.channel_code,
        contains('|' || coalesce(customers.marketable_channels, '') || '|',
            '|' || channels.channel_code || '|') as is_marketable
    from core.customer_360 as customers
    cross join core.dim_channel as channels
    where not channels.is_inferred
)

select
    customer_channels.channel_code,
    coalesce(customer_channels.segment_code, 'none') as segment_code,
    count(*) as n_customers,
    count(*) filter (where customer_channels.is_marketable) as n_marketable,
    count(*) filter (
        where customer_channels.is_marketable and not customer_channels.has_open_complaint
    ) as n_reachable_today,
    round(avg(case when customer_channels.is_marketable then 1 else 0 end), 4) as marketable_share
from customer_channels
group by customer_channels.channel_code, coalesce(customer_channels.segment_code, 'none')
order by customer_channels.channel_code, segment_code
