with

offers as (
    select
        offer_id,
        campaign_id,
        product_id,
        channels,
        cells,
        control_rate,
        valid_from,
        valid_to
    from {{ ref('stg_campaign__offers') }}
    where valid_from <= {{ run_date() }}
        and valid_to >= {{ run_date() }}
),

campaigns as (
    select
        campaign_id
    from {{ ref('stg_campaign__campaigns') }}
    where start_date <= {{ run_date() }}
        and end_date >= {{ run_date() }}
),

products as (
    select
        product_id,
        category,
        product_value
    from {{ ref('stg_core_banking__products') }}
),

channels as (
    select
        channel_code,
        requires_opt_in
    from {{ ref('stg_config__channels') }}
),

settings as (
    select
        default_control_rate
    from {{ ref('stg_config__decision_settings') }}
),

active_offers as (
    select
        offers.offer_id,
        offers.campaign_id,
        offers.product_id,
        products.category as product_category,
        products.product_value,
        offers.channels,
        offers.cells,
        offers.control_rate
    from offers
    inner join campaigns
        on offers.campaign_id = campaigns.campaign_id
    inner join products
        on offers.product_id = products.product_id
),

offer_channels as (
    select
        active_offers.offer_id,
        channels.channel_code as channel,
        active_offers.campaign_id,
        active_offers.product_id,
        active_offers.product_category,
        channels.requires_opt_in,
        active_offers.cells,
        coalesce(active_offers.control_rate, settings.default_control_rate) as control_rate,
        active_offers.product_value
    from active_offers
    inner join channels
        on {{ pipe_list_contains('active_offers.channels', 'channels.channel_code') }}
    cross join settings
),

final as (
    select * from offer_channels
)

select * from final
