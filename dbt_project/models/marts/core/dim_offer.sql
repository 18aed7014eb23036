{#
    Every offer: its campaign, product, channels, A/B cells, control rate and fulfilment
    action; inferred members for offer ids that contacts or responses name but the offer
    file lacks.
#}
with

offers as (
    select
        offer_id,
        offer_name,
        campaign_id,
        product_id,
        channels,
        cells,
        control_rate,
        fulfilment_action,
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

settings as (
    select
        default_control_rate
    from {{ ref('stg_config__decision_settings') }}
),

referenced_offers as (
    {{ referenced_keys('offer_id', [
        ref('stg_campaign__contacts'),
        ref('stg_campaign__responses'),
    ]) }}
),

all_offers as (
    select offer_id from offers
    union
    select offer_id from referenced_offers
),

final as (
    select
        all_offers.offer_id,
        offers.offer_name,
        offers.campaign_id,
        offers.product_id,
        offers.channels,
        cast({{ pipe_list_length('offers.channels') }} as integer) as n_channels,
        offers.cells,
        coalesce(offers.control_rate, settings.default_control_rate) as control_rate,
        offers.control_rate is null and offers.offer_id is not null as uses_default_control_rate,
        offers.fulfilment_action,
        offers.fulfilment_action is not null as has_fulfilment_action,
        offers.valid_from,
        offers.valid_to,
        coalesce(
            offers.valid_from <= {{ run_date() }}
            and offers.valid_to >= {{ run_date() }}
            and campaigns.start_date <= {{ run_date() }}
            and campaigns.end_date >= {{ run_date() }},
            false
        ) as is_active_on_run_date,
        offers.offer_id is null as is_inferred
    from all_offers
    left join offers
        on all_offers.offer_id = offers.offer_id
    left join campaigns
        on offers.campaign_id = campaigns.campaign_id
    cross join settings
)

select * from final
