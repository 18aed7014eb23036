{#
    One row per fulfilment request (grain: response_id): a hard response to an offer that has
    a fulfilment_action (dim_offer) asks an operational system to act once (tariff change,
    credit-limit increase, ...). idempotency_key = hash of response_id and action: the same
    response always yields the same key, so the outbox (cmart/outbox.py) emits it exactly
    once however often this table is rebuilt or a response file is replayed.
#}
with

responses as (
    select
        response_id,
        customer_id,
        offer_id,
        campaign_id,
        product_id,
        channel,
        response_type,
        response_class,
        rep_id,
        branch_id,
        responded_at
    from {{ ref('fct_response') }}
    where response_class = 'hard'
),

offers as (
    select
        offer_id,
        fulfilment_action
    from {{ ref('dim_offer') }}
    where has_fulfilment_action
),

requested as (
    select
        {{ surrogate_key(['responses.response_id', 'offers.fulfilment_action']) }}
            as idempotency_key,
        responses.response_id,
        offers.fulfilment_action,
        responses.customer_id,
        responses.offer_id,
        responses.campaign_id,
        responses.product_id,
        responses.channel,
        responses.response_type,
        responses.rep_id,
        responses.branch_id,
        responses.responded_at
    from responses
    inner join offers
        on responses.offer_id = offers.offer_id
),

final as (
    select
        idempotency_key,
        response_id,
        fulfilment_action,
        customer_id,
        offer_id,
        campaign_id,
        product_id,
        channel,
        response_type,
        rep_id,
        branch_id,
        cast(responded_at as date) as response_date,
        responded_at
    from requested
)

select * from final
