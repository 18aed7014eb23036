{#
    One row per customer with any score: the latest value of every score name as one JSON
    object ({"churn_risk": 0.12, ...}); score names are data (other departments add them).
#}
with

scores as (
    select
        customer_id,
        score_name,
        score_value,
        scored_at
    from {{ ref('stg_analytics__scores') }}
    where scored_at < {{ run_date_end() }}
),

latest_first as (
    select
        customer_id,
        score_name,
        score_value,
        scored_at,
        row_number() over (
            partition by customer_id, score_name
            order by scored_at desc
        ) as recency
    from scores
),

final as (
    select
        customer_id,
        {{ json_object_agg('score_name', 'score_value') }} as latest_scores,
        count(*) as n_scores,
        max(scored_at) as last_scored_at
    from latest_first
    where recency = 1
    group by customer_id
)

select * from final
