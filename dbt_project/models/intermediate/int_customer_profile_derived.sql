{#
    The customer attributes that change over time, as they stand on the run date: segment,
    life stage and age band (derived by the configured rules) and the core-banking attributes
    they depend on or that analysts slice by. snp_customer_profile keeps their history.
#}
with

customers as (
    select
        customer_id,
        occupation,
        marital_status,
        income_band,
        city,
        region,
        home_branch_id
    from {{ ref('stg_core_banking__customers') }}
),

segments as (
    select
        customer_id,
        segment_code,
        age
    from {{ ref('int_customer_segment_assigned') }}
),

life_stages as (
    select
        customer_id,
        life_stage_code
    from {{ ref('int_customer_life_stage_assigned') }}
),

age_bands as (
    select
        age_band_code,
        age_min,
        age_max
    from {{ ref('age_bands') }}
),

final as (
    select
        customers.customer_id,
        segments.segment_code,
        life_stages.life_stage_code,
        age_bands.age_band_code,
        customers.occupation,
        customers.marital_status,
        customers.income_band,
        customers.city,
        customers.region,
        customers.home_branch_id,
        cast({{ run_date() }} as {{ dbt.type_timestamp() }}) as observed_at
    from customers
    left join segments
        on customers.customer_id = segments.customer_id
    left join life_stages
        on customers.customer_id = life_stages.customer_id
    left join age_bands
        on segments.age >= age_bands.age_min
        and (age_bands.age_max is null or segments.age <= age_bands.age_max)
)

select * from final
