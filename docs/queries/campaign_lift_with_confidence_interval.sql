-- Which campaigns caused more acceptances than would have happened anyway? Lift of the
-- hard-response rate against the control group per campaign, with its 95% Newcombe interval,
-- the incremental hard responders and value, and whether the evidence is conclusive.
with

lift as (
    select
        campaign_id,
        n_treated,
        n_control,
        treated_rate,
        control_rate,
        lift,
        lift_ci_lower,
        lift_ci_upper,
        incremental_hard_responders,
        incremental_value,
        has_enough_contacts,
        is_significantly_positive,
        is_not_above_control
    from reporting.rpt_campaign_lift
    where lift_level = 'campaign'
),

campaigns as (
    select
        campaign_id,
        campaign_name
    from core.dim_campaign
),

final as (
    select
        lift.campaign_id,
        campaigns.campaign_name,
        lift.n_treated,
        lift.n_control,
        round(lift.treated_rate * 100, 2) as treated_rate_pct,
        round(lift.control_rate * 100, 2) as control_rate_pct,
        round(lift.lift * 100, 2) as lift_pts,
        round(lift.lift_ci_lower * 100, 2) as lift_ci_lower_pts,
        round(lift.lift_ci_upper * 100, 2) as lift_ci_upper_pts,
        round(lift.incremental_hard_responders, 1) as incremental_hard_responders,
        round(lift.incremental_value, 0) as incremental_value,
        case
            when not lift.has_enough_contacts then 'too few contacts'
            when lift.is_significantly_positive then 'works'
            when lift.is_not_above_control then 'does not beat control'
            else 'inconclusive'
        end as verdict
    from lift
    left join campaigns
        on lift.campaign_id = campaigns.campaign_id
)

select * from final
order by lift_pts desc nulls last
