{#
    Every sales representative with the branch (or dealer), city and region they work at;
    inferred members for rep ids that contacts or responses name but the rep file lacks.
#}
with

reps as (
    select
        rep_id,
        rep_name,
        branch_id
    from {{ ref('stg_core_banking__reps') }}
),

branches as (
    select
        branch_id,
        branch_name,
        branch_type,
        city,
        region
    from {{ ref('stg_core_banking__branches') }}
),

referenced_reps as (
    {{ referenced_keys('rep_id', [
        ref('stg_campaign__contacts'),
        ref('stg_campaign__responses'),
    ]) }}
),

all_reps as (
    select rep_id from reps
    union
    select rep_id from referenced_reps
),

final as (
    select
        all_reps.rep_id,
        reps.rep_name,
        reps.branch_id,
        branches.branch_name,
        branches.branch_type,
        branches.city,
        branches.region,
        reps.rep_id is null as is_inferred
    from all_reps
    left join reps
        on all_reps.rep_id = reps.rep_id
    left join branches
        on reps.branch_id = branches.branch_id
)

select * from final
