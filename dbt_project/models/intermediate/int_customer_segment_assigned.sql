with

customers as (
    select
        customer_id,
        birth_date,
        income_band,
        occupation
    from {{ ref('stg_core_banking__customers') }}
),

segment_rules as (
    select
        segment_code,
        priority,
        age_min,
        age_max,
        income_bands,
        occupations
    from {{ ref('stg_config__segments') }}
),

customer_ages as (
    select
        customer_id,
        income_band,
        occupation,
        {{ age_in_years('birth_date', run_date()) }} as age
    from customers
),

matching_rules as (
    select
        customer_ages.customer_id,
        segment_rules.segment_code,
        row_number() over (
            partition by customer_ages.customer_id
            order by segment_rules.priority
        ) as match_order
    from customer_ages
    inner join segment_rules
        on {{ segment_rule_matches(
            'segment_rules',
            'customer_ages.age',
            'customer_ages.income_band',
            'customer_ages.occupation'
        ) }}
),

final as (
    select
        customer_ages.customer_id,
        matching_rules.segment_code,
        cast(customer_ages.age as integer) as age
    from customer_ages
    left join matching_rules
        on customer_ages.customer_id = matching_rules.customer_id
        and matching_rules.match_order = 1
)

select * from final
