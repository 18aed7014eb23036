{#
    Lift against the control group, one row per level and key: per campaign
    (lift_level = 'campaign'), per offer ('offer') and per offer and channel ('offer_channel').
    Treated and control contacts are compared on their hard-response rate (contacts with at
    least one hard response attributed to them / contacts). lift = treated rate - control
    rate, with a 95% Newcombe hybrid score interval for the difference of two independent
    proportions (macros/confidence_intervals.sql). Incremental hard responders = lift x
    treated contacts (and its interval); incremental value = (treated - control) hard-response
    value per contact x treated contacts. has_enough_contacts: both groups have at least
    lift_min_contacts contacts (settings.yml `reporting:`).

    Only mature contacts are measured: contacts whose attribution window
    (decisioning.attribution_window_days) has fully elapsed by the run date, i.e. contacted
    before run date - window. A younger contact may still draw a response that has not arrived,
    so counting it would pull both rates towards 0 (and the lift with them), most for the
    campaigns still running. The younger contacts are counted apart (n_*_maturing).
    The cut is only unbiased if matching a response that lacks its contact reference (all
    control responses) moves responses neither forward nor backward across it: see the
    lag-weighted draw of int_response_attributed.
#}
with

performance as (
    select
        contact_date,
        campaign_id,
        offer_id,
        channel,
        is_control,
        n_contacts,
        n_hard_responders,
        hard_response_value
    from {{ ref('rpt_campaign_performance') }}
),

reporting_settings as (
    select
        lift_min_contacts
    from {{ ref('stg_config__reporting_settings') }}
),

decision_settings as (
    select
        attribution_window_days
    from {{ ref('stg_config__decision_settings') }}
),

maturity as (
    select
        cast(
            {{ dbt.dateadd('day', '-1 * attribution_window_days', run_date()) }} as date
        ) as mature_before_date
    from decision_settings
),

performance_matured as (
    select
        performance.*,
        performance.contact_date < maturity.mature_before_date as is_mature
    from performance
    cross join maturity
),

offer_channel_arms as (
    select
        'offer_channel' as lift_level,
        campaign_id,
        offer_id,
        channel,
        sum(case when is_mature and not is_control then n_contacts else 0 end) as n_treated,
        sum(case when is_mature and not is_control then n_hard_responders else 0 end)
            as n_treated_hard,
        sum(case when is_mature and not is_control then hard_response_value else 0 end)
            as treated_value,
        sum(case when is_mature and is_control then n_contacts else 0 end) as n_control,
        sum(case when is_mature and is_control then n_hard_responders else 0 end)
            as n_control_hard,
        sum(case when is_mature and is_control then hard_response_value else 0 end)
            as control_value,
        sum(case when not is_mature and not is_control then n_contacts else 0 end)
            as n_treated_maturing,
        sum(case when not is_mature and is_control then n_contacts else 0 end)
            as n_control_maturing
    from performance_matured
    group by campaign_id, offer_id, channel
),

offer_arms as (
    select
        'offer' as lift_level,
        campaign_id,
        offer_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        sum(n_treated) as n_treated,
        sum(n_treated_hard) as n_treated_hard,
        sum(treated_value) as treated_value,
        sum(n_control) as n_control,
        sum(n_control_hard) as n_control_hard,
        sum(control_value) as control_value,
        sum(n_treated_maturing) as n_treated_maturing,
        sum(n_control_maturing) as n_control_maturing
    from offer_channel_arms
    group by campaign_id, offer_id
),

campaign_arms as (
    select
        'campaign' as lift_level,
        campaign_id,
        cast(null as {{ dbt.type_string() }}) as offer_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        sum(n_treated) as n_treated,
        sum(n_treated_hard) as n_treated_hard,
        sum(treated_value) as treated_value,
        sum(n_control) as n_control,
        sum(n_control_hard) as n_control_hard,
        sum(control_value) as control_value,
        sum(n_treated_maturing) as n_treated_maturing,
        sum(n_control_maturing) as n_control_maturing
    from offer_arms
    group by campaign_id
),

arms as (
    select * from campaign_arms
    union all
    select * from offer_arms
    union all
    select * from offer_channel_arms
),

measured as (
    select
        arms.*,
        cast(arms.n_treated_hard as double) / nullif(arms.n_treated, 0) as treated_rate,
        cast(arms.n_control_hard as double) / nullif(arms.n_control, 0) as control_rate,
        {{ newcombe_diff_lower('arms.n_treated_hard', 'arms.n_treated',
            'arms.n_control_hard', 'arms.n_control') }} as lift_ci_lower,
        {{ newcombe_diff_upper('arms.n_treated_hard', 'arms.n_treated',
            'arms.n_control_hard', 'arms.n_control') }} as lift_ci_upper,
        arms.n_treated >= reporting_settings.lift_min_contacts
            and arms.n_control >= reporting_settings.lift_min_contacts as has_enough_contacts,
        maturity.mature_before_date
    from arms
    cross join reporting_settings
    cross join maturity
),

final as (
    select
        {{ surrogate_key(['lift_level', 'campaign_id', 'offer_id', 'channel']) }} as lift_sk,
        lift_level,
        campaign_id,
        offer_id,
        channel,
        cast(n_treated as bigint) as n_treated,
        cast(n_treated_hard as bigint) as n_treated_hard,
        cast(n_control as bigint) as n_control,
        cast(n_control_hard as bigint) as n_control_hard,
        cast(n_treated_maturing as bigint) as n_treated_maturing,
        cast(n_control_maturing as bigint) as n_control_maturing,
        round(treated_rate, 8) as treated_rate,
        round(control_rate, 8) as control_rate,
        round(treated_rate - control_rate, 8) as lift,
        round(lift_ci_lower, 8) as lift_ci_lower,
        round(lift_ci_upper, 8) as lift_ci_upper,
        round((treated_rate - control_rate) / nullif(control_rate, 0), 6) as relative_lift,
        round((treated_rate - control_rate) * n_treated, 4) as incremental_hard_responders,
        round(lift_ci_lower * n_treated, 4) as incremental_hard_responders_ci_lower,
        round(lift_ci_upper * n_treated, 4) as incremental_hard_responders_ci_upper,
        round(
            (
                cast(treated_value as double) / nullif(n_treated, 0)
                - cast(control_value as double) / nullif(n_control, 0)
            ) * n_treated,
            2
        ) as incremental_value,
        has_enough_contacts,
        coalesce(lift_ci_lower > 0, false) as is_significantly_positive,
        coalesce(lift_ci_upper <= 0, false) as is_not_above_control,
        mature_before_date
    from measured
)

select * from final
