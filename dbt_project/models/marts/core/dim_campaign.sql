{#  Every campaign, with its number of offers; inferred members for campaign ids offers name. #}
with

campaigns as (
    select
        campaign_id,
        campaign_name,
        objective,
        owner,
        start_date,
        end_date
    from {{ ref('stg_campaign__campaigns') }}
),

offers as (
    select
        offer_id,
        campaign_id
    from {{ ref('stg_campaign__offers') }}
),

offer_counts as (
    select
        campaign_id,
        count(*) as n_offers
    from offers
    group by campaign_id
),

all_campaigns as (
    select campaign_id from campaigns
    union
    select campaign_id from offers
),

final as (
    select
        all_campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.objective,
        campaigns.owner,
        campaigns.start_date,
        campaigns.end_date,
        cast({{ dbt.datediff('campaigns.start_date', 'campaigns.end_date', 'day') }} + 1 as integer)
            as duration_days,
        cast(coalesce(offer_counts.n_offers, 0) as integer) as n_offers,
        coalesce(
            campaigns.start_date <= {{ run_date() }} and campaigns.end_date >= {{ run_date() }},
            false
        ) as is_active_on_run_date,
        campaigns.campaign_id is null as is_inferred
    from all_campaigns
    left join campaigns
        on all_campaigns.campaign_id = campaigns.campaign_id
    left join offer_counts
        on all_campaigns.campaign_id = offer_counts.campaign_id
)

select * from final
