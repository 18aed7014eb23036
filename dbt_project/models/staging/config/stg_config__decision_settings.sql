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
        default_control_rate
    from source
)

select * from final
