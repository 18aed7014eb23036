{#
    A table, not a view (the staging default): millions of rows (several scores per customer).
    As a view, the deduplication and the md5 key were computed again by each of its 3 data
    tests and by each reader (int_customer_scores_summarised, int_propensity_features_assembled);
    as a table, once per run.
#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('analytics', 'scores') }}
),

renamed as (
    select
        trim(customer_id) as customer_id,
        {{ normalise_code('score_name') }} as score_name,
        score_value,
        scored_at,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate(
        'renamed',
        'customer_id, score_name, scored_at',
        'scored_at desc, ' ~ load_order_desc()
    ) }}
),

final as (
    select
        {{ surrogate_key(['customer_id', 'score_name', 'scored_at']) }} as score_sk,
        customer_id,
        score_name,
        score_value,
        scored_at,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
