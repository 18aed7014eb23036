{#
    Life stage at the run date: the first rule of the life_stage_rules seed, by priority, that
    matches the customer's age, marital status and occupation and, when the rule names life
    events, a life event of one of those types within life_event_within_days days.
#}
with

customers as (
    select
        customer_id,
        birth_date,
        marital_status,
        occupation
    from {{ ref('stg_core_banking__customers') }}
),

life_events as (
    select
        customer_id,
        event_type,
        event_date
    from {{ ref('stg_crm__life_events') }}
    where event_date <= {{ run_date() }}
),

rules as (
    select
        priority,
        life_stage_code,
        age_min,
        age_max,
        {{ normalise_code('marital_statuses') }} as marital_statuses,
        {{ normalise_code('occupations') }} as occupations,
        {{ normalise_code('life_events') }} as life_events,
        life_event_within_days
    from {{ ref('life_stage_rules') }}
),

customer_ages as (
    select
        customer_id,
        marital_status,
        occupation,
        {{ age_in_years('birth_date', run_date()) }} as age
    from customers
),

latest_event_per_type as (
    select
        customer_id,
        event_type,
        max(event_date) as last_event_date
    from life_events
    group by customer_id, event_type
),

demographic_matches as (
    select
        customer_ages.customer_id,
        rules.priority,
        rules.life_stage_code,
        rules.life_events,
        rules.life_event_within_days
    from customer_ages
    inner join rules
        on {{ life_stage_rule_matches(
            'rules', 'customer_ages.age', 'customer_ages.marital_status', 'customer_ages.occupation'
        ) }}
),

without_event_condition as (
    select
        customer_id,
        priority,
        life_stage_code
    from demographic_matches
    where life_events is null
),

with_event_condition as (
    select distinct
        demographic_matches.customer_id,
        demographic_matches.priority,
        demographic_matches.life_stage_code
    from demographic_matches
    inner join latest_event_per_type
        on demographic_matches.customer_id = latest_event_per_type.customer_id
        and {{ pipe_list_contains(
            'demographic_matches.life_events', 'latest_event_per_type.event_type'
        ) }}
    where demographic_matches.life_event_within_days is null
        or latest_event_per_type.last_event_date > {{ dbt.dateadd(
            'day', '-1 * demographic_matches.life_event_within_days', run_date()
        ) }}
),

matching_rules as (
    select * from without_event_condition
    union all
    select * from with_event_condition
),

first_match as (
    select
        customer_id,
        priority,
        life_stage_code,
        row_number() over (partition by customer_id order by priority) as match_order
    from matching_rules
),

final as (
    select
        customer_ages.customer_id,
        first_match.life_stage_code,
        first_match.priority as life_stage_rule_priority
    from customer_ages
    left join first_match
        on customer_ages.customer_id = first_match.customer_id
        and first_match.match_order = 1
)

select * from final
