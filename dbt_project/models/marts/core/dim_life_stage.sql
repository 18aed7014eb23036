{#  Every life stage of the life_stages seed, with the number of rules that lead to it. #}
with

life_stages as (
    select
        life_stage_code,
        life_stage_name,
        description
    from {{ ref('life_stages') }}
),

rules as (
    select
        life_stage_code,
        priority
    from {{ ref('life_stage_rules') }}
),

rule_counts as (
    select
        life_stage_code,
        count(*) as n_rules,
        min(priority) as first_rule_priority
    from rules
    group by life_stage_code
),

final as (
    select
        life_stages.life_stage_code,
        life_stages.life_stage_name,
        life_stages.description,
        cast(coalesce(rule_counts.n_rules, 0) as integer) as n_rules,
        cast(rule_counts.first_rule_priority as integer) as first_rule_priority
    from life_stages
    left join rule_counts
        on life_stages.life_stage_code = rule_counts.life_stage_code
)

select * from final
