{#
    Every offer and channel the decision step considers on the run date: offers active today
    (offer and campaign valid on the run date) plus, for the suppression log, offers that ended
    or start within eligibility_log_window_days (is_offer_active = false). A channel is
    considered when the offer lists it and the product's channel rules (product_channels.csv)
    allow it; a product without rules may use every channel of its offers. The product's tier
    comes from product_tiers.csv when set there, else from the products source.
#}
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
),

campaigns as (
    select
        campaign_id,
        start_date,
        end_date
    from {{ ref('stg_campaign__campaigns') }}
),

products as (
    select
        product_id,
        category,
        tier,
        product_value
    from {{ ref('stg_core_banking__products') }}
),

product_tiers as (
    select
        product_id,
        tier
    from {{ ref('stg_config__product_tiers') }}
),

channels as (
    select
        channel_code,
        requires_opt_in,
        daily_capacity,
        cost_per_contact
    from {{ ref('stg_config__channels') }}
),

product_channels as (
    select
        product_id,
        channel_code,
        channel_order
    from {{ ref('stg_config__product_channels') }}
),

settings as (
    select
        default_control_rate,
        eligibility_log_window_days
    from {{ ref('stg_config__decision_settings') }}
),

offers_with_campaign as (
    select
        offers.offer_id,
        offers.campaign_id,
        offers.product_id,
        offers.channels,
        offers.cells,
        offers.control_rate,
        offers.valid_from,
        offers.valid_to,
        (
            offers.valid_from <= {{ run_date() }}
            and offers.valid_to >= {{ run_date() }}
            and campaigns.start_date <= {{ run_date() }}
            and campaigns.end_date >= {{ run_date() }}
        ) as is_offer_active
    from offers
    inner join campaigns
        on offers.campaign_id = campaigns.campaign_id
),

-- active offers, and inactive ones near the run date for the suppression log
offers_in_window as (
    select offers_with_campaign.*
    from offers_with_campaign
    cross join settings
    where offers_with_campaign.is_offer_active
        or (
            offers_with_campaign.valid_to >= {{ dbt.dateadd(
                'day', '-1 * settings.eligibility_log_window_days', run_date()
            ) }}
            and offers_with_campaign.valid_from <= {{ dbt.dateadd(
                'day', 'settings.eligibility_log_window_days', run_date()
            ) }}
        )
),

offers_with_product as (
    select
        offers_in_window.offer_id,
        offers_in_window.campaign_id,
        offers_in_window.product_id,
        products.category as product_category,
        coalesce(product_tiers.tier, products.tier) as product_tier,
        products.product_value,
        offers_in_window.channels,
        offers_in_window.cells,
        offers_in_window.control_rate,
        offers_in_window.is_offer_active
    from offers_in_window
    inner join products
        on offers_in_window.product_id = products.product_id
    left join product_tiers
        on offers_in_window.product_id = product_tiers.product_id
),

products_with_rules as (
    select distinct
        product_id
    from product_channels
),

offer_channels as (
    select
        offers_with_product.offer_id,
        channels.channel_code as channel,
        offers_with_product.campaign_id,
        offers_with_product.product_id,
        offers_with_product.product_category,
        offers_with_product.product_tier,
        offers_with_product.is_offer_active,
        product_channels.channel_order,
        channels.requires_opt_in,
        channels.daily_capacity,
        channels.cost_per_contact,
        offers_with_product.cells,
        coalesce(offers_with_product.control_rate, settings.default_control_rate) as control_rate,
        offers_with_product.product_value
    from offers_with_product
    inner join channels
        on {{ pipe_list_contains('offers_with_product.channels', 'channels.channel_code') }}
    cross join settings
    left join products_with_rules
        on offers_with_product.product_id = products_with_rules.product_id
    left join product_channels
        on offers_with_product.product_id = product_channels.product_id
        and channels.channel_code = product_channels.channel_code
    where products_with_rules.product_id is null
        or product_channels.channel_code is not null
),

final as (
    select * from offer_channels
)

select * from final
