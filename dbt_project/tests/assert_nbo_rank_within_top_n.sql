-- nbo never holds more than top_n_offers offers per customer, ranked 1..N without gaps.
with

nbo as (
    select
        customer_id,
        rank
    from {{ ref('nbo') }}
),

settings as (
    select
        top_n_offers
    from {{ ref('stg_config__decision_settings') }}
),

per_customer as (
    select
        customer_id,
        count(*) as n_offers,
        min(rank) as min_rank,
        max(rank) as max_rank
    from nbo
    group by customer_id
),

final as (
    select
        per_customer.customer_id,
        per_customer.n_offers,
        per_customer.min_rank,
        per_customer.max_rank
    from per_customer
    cross join settings
    where per_customer.max_rank > settings.top_n_offers
        or per_customer.min_rank <> 1
        or per_customer.max_rank <> per_customer.n_offers
)

select * from final
