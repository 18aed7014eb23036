with

source as (
    select * from {{ source('config', 'response_types') }}
),

final as (
    select
        {{ normalise_code('response_type') }} as response_type,
        {{ normalise_code('response_class') }} as response_class,
        funnel_step
    from source
)

select * from final
