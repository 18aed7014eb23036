with

source as (
    select * from {{ source('config', 'config_version') }}
),

final as (
    select
        config_version,
        loaded_at
    from source
)

select * from final
