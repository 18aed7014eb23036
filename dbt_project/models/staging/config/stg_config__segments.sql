with

source as (
    select * from {{ source('config', 'segments') }}
),

final as (
    select
        {{ normalise_code('segment_code') }} as segment_code,
        segment_name,
        priority,
        age_min,
        age_max,
        -- pipe lists; null = any value matches
        {{ normalise_code('income_bands') }} as income_bands,
        {{ normalise_code('occupations') }} as occupations
    from source
)

select * from final
