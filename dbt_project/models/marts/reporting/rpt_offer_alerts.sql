{#
    Low-performing offers, one row per offer that breaks a rule of settings.yml `reporting:`
    (offers that break none have no row):
      - hard_rate_below_expected: after at least alert_min_contacts treated contacts, the
        offer's hard-response rate is below alert_warning_rate_ratio (severity 'warning') or
        alert_critical_rate_ratio (severity 'critical') times its expected rate. The expected
        rate is leave-one-out and channel-mix adjusted: what the offer's treated contacts would
        have drawn at the hard-response rate that all *other* offers had on the same channels.
      - lift_not_above_control (when alert_on_negative_lift): the offer's lift against its
        control group has enough contacts (rpt_campaign_lift.has_enough_contacts) and its 95%
        interval lies entirely at or below 0 (severity 'critical').
    An offer breaking both rules gets one row with the higher severity and both rule names.
#}
with

performance as (
    select
        campaign_id,
        offer_id,
        product_id,
        channel,
        n_contacts,
        n_hard_responders
    from {{ ref('rpt_campaign_performance') }}
    where not is_control
),

offer_lift as (
    select
        offer_id,
        lift,
        lift_ci_lower,
        lift_ci_upper,
        has_enough_contacts
    from {{ ref('rpt_campaign_lift') }}
    where lift_level = 'offer'
),

settings as (
    select
        alert_min_contacts,
        alert_warning_rate_ratio,
        alert_critical_rate_ratio,
        alert_on_negative_lift
    from {{ ref('stg_config__reporting_settings') }}
),

offer_channels as (
    select
        campaign_id,
        offer_id,
        product_id,
        channel,
        sum(n_contacts) as n_contacts,
        sum(n_hard_responders) as n_hard_responders
    from performance
    group by campaign_id, offer_id, product_id, channel
),

channel_totals as (
    select
        channel,
        sum(n_contacts) as n_contacts,
        sum(n_hard_responders) as n_hard_responders
    from offer_channels
    group by channel
),

-- the rate of every other offer on the channel: the offer's own contacts left out
offer_channel_expected as (
    select
        offer_channels.*,
        cast(channel_totals.n_hard_responders - offer_channels.n_hard_responders as double)
            / nullif(channel_totals.n_contacts - offer_channels.n_contacts, 0)
            as others_hard_rate
    from offer_channels
    inner join channel_totals
        on offer_channels.channel = channel_totals.channel
),

offers as (
    select
        campaign_id,
        offer_id,
        product_id,
        sum(n_contacts) as n_treated,
        sum(n_hard_responders) as n_treated_hard,
        sum(n_contacts * others_hard_rate) / nullif(sum(n_contacts), 0) as expected_hard_rate
    from offer_channel_expected
    group by campaign_id, offer_id, product_id
),

judged as (
    select
        offers.campaign_id,
        offers.offer_id,
        offers.product_id,
        offers.n_treated,
        offers.n_treated_hard,
        cast(offers.n_treated_hard as double) / nullif(offers.n_treated, 0) as hard_rate,
        offers.expected_hard_rate,
        cast(offers.n_treated_hard as double) / nullif(offers.n_treated, 0)
            / nullif(offers.expected_hard_rate, 0) as rate_ratio,
        offer_lift.lift,
        offer_lift.lift_ci_lower,
        offer_lift.lift_ci_upper,
        settings.alert_warning_rate_ratio,
        settings.alert_critical_rate_ratio,
        offers.n_treated >= settings.alert_min_contacts as is_judged,
        settings.alert_on_negative_lift
            and coalesce(offer_lift.has_enough_contacts, false)
            and coalesce(offer_lift.lift_ci_upper <= 0, false) as breaks_lift_rule
    from offers
    cross join settings
    left join offer_lift
        on offers.offer_id = offer_lift.offer_id
),

rules as (
    select
        *,
        is_judged and rate_ratio < alert_warning_rate_ratio as breaks_rate_rule,
        is_judged and rate_ratio < alert_critical_rate_ratio as breaks_critical_rate
    from judged
),

final as (
    select
        offer_id,
        campaign_id,
        product_id,
        case
            when breaks_critical_rate or breaks_lift_rule then 'critical'
            else 'warning'
        end as severity,
        concat_ws(
            ',',
            case when breaks_rate_rule then 'hard_rate_below_expected' end,
            case when breaks_lift_rule then 'lift_not_above_control' end
        ) as alert_rules,
        concat_ws(
            '; ',
            case when breaks_rate_rule then
                'hard-response rate ' || cast(round(hard_rate * 100, 2) as varchar)
                || '% is ' || cast(round(rate_ratio * 100, 0) as varchar)
                || '% of the expected ' || cast(round(expected_hard_rate * 100, 2) as varchar)
                || '% after ' || cast(n_treated as varchar) || ' contacts'
            end,
            case when breaks_lift_rule then
                'lift against control ' || cast(round(lift * 100, 2) as varchar)
                || ' pts, 95% CI [' || cast(round(lift_ci_lower * 100, 2) as varchar)
                || ', ' || cast(round(lift_ci_upper * 100, 2) as varchar) || '] pts'
            end
        ) as alert_message,
        cast(n_treated as bigint) as n_treated,
        cast(n_treated_hard as bigint) as n_treated_hard,
        hard_rate,
        expected_hard_rate,
        rate_ratio,
        lift,
        lift_ci_lower,
        lift_ci_upper
    from rules
    where breaks_rate_rule or breaks_lift_rule
)

select * from final
