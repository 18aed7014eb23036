with

source as (
    select * from {{ source('config', 'reporting_settings') }}
),

final as (
    select
        cast(alert_min_contacts as integer) as alert_min_contacts,
        cast(alert_warning_rate_ratio as double) as alert_warning_rate_ratio,
        cast(alert_critical_rate_ratio as double) as alert_critical_rate_ratio,
        cast(alert_on_negative_lift as boolean) as alert_on_negative_lift,
        cast(lift_min_contacts as integer) as lift_min_contacts
    from source
)

select * from final
