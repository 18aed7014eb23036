{#  Every segment of the segment configuration, with its rule and its product path. #}
with

segments as (
    select
        segment_code,
        segment_name,
        priority,
        age_min,
        age_max,
        income_bands,
        occupations
    from {{ ref('stg_config__segments') }}
),

product_paths as (
    select
        segment_code,
        product_id,
        path_position
    from {{ ref('stg_config__product_paths') }}
),

paths as (
    select
        segment_code,
        count(*) as n_products_on_path,
        {{ dbt.listagg('product_id', "'|'", 'order by path_position, product_id') }}
            as product_path
    from product_paths
    group by segment_code
),

final as (
    select
        segments.segment_code,
        segments.segment_name,
        cast(segments.priority as integer) as priority,
        cast(segments.age_min as integer) as age_min,
        cast(segments.age_max as integer) as age_max,
        segments.income_bands,
        segments.occupations,
        paths.product_path,
        cast(coalesce(paths.n_products_on_path, 0) as integer) as n_products_on_path
    from segments
    left join paths
        on segments.segment_code = paths.segment_code
)

select * from final
