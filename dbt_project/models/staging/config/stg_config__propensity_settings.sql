with

source as (
    select * from {{ source('config', 'propensity_settings') }}
),

final as (
    select
        max_training_rows,
        label_days,
        validation_days,
        history_days
    from source
)

select * from final
