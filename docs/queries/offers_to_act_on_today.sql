-- Low-performing offers the CRM team should act on today: every offer that breaks a rule of
-- settings.yml `reporting:` (hard-response rate far below what other offers get on the same
-- channels, or lift against control not above 0), critical first, with its campaign and
-- product and what was measured.
with

alerts as (
    select
        offer_id,
        campaign_id,
        product_id,
        severity,
        alert_rules,
        alert_message,
        n_treated,
        hard_rate,
        expected_hard_rate
    from reporting.rpt_offer_alerts
),

offers as (
    select
        offer_id,
        offer_name,
        is_active_on_run_date
    from core.dim_offer
),

final as (
    select
        alerts.severity,
        alerts.offer_id,
        offers.offer_name,
        alerts.campaign_id,
        alerts.product_id,
        offers.is_active_on_run_date,
        alerts.alert_rules,
        alerts.n_treated,
        round(alerts.hard_rate * 100, 2) as hard_rate_pct,
        round(alerts.expected_hard_rate * 100, 2) as expected_hard_rate_pct,
        alerts.alert_message
    from alerts
    left join offers
        on alerts.offer_id = offers.offer_id
)

select * from final
order by case severity when 'critical' then 0 else 1 end, offer_id
