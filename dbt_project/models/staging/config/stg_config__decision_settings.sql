with

source as (
    select * from {{ source('config', 'decision_settings') }}
),

final as (
    select
        top_n_offers,
        response_suppression_days,
        attribution_window_days,
        propensity_prior_contacts,
        default_control_rate,
        propensity_weight,
        value_weight,
        cost_weight,
        separate_tiers,
        capacity_fallback_channels,
        eligibility_log_window_days,
        eligibility_log_retention_days,
        revise_after_response
    from source
)

select * from final
