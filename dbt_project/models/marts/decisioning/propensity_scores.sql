{#
    The published propensity of every customer x product x candidate channel
    (int_propensity_scored: the active model's score, or the segment rate). The `propensity`
    input of arbitration: join on (customer_id, product_id, channel).
#}
with

scored as (
    select
        customer_id,
        product_id,
        channel,
        score,
        model_version
    from {{ ref('int_propensity_scored') }}
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(score as double) as score,
        cast(model_version as {{ dbt.type_string() }}) as model_version
    from scored
)

select * from final
