{#
    Every branch or dealer with its city and region and number of reps; inferred members for
    branch ids that customers, reps, contacts or responses name but the branch file lacks.
#}
with

branches as (
    select
        branch_id,
        branch_name,
        city,
        region,
        branch_type
    from {{ ref('stg_core_banking__branches') }}
),

reps as (
    select
        rep_id,
        branch_id
    from {{ ref('stg_core_banking__reps') }}
),

rep_counts as (
    select
        branch_id,
        count(*) as n_reps
    from reps
    group by branch_id
),

referenced_branches as (
    {{ referenced_keys(
        'home_branch_id', [ref('stg_core_banking__customers')], as_name='branch_id'
    ) }}
    union
    {{ referenced_keys('branch_id', [
        ref('stg_core_banking__reps'),
        ref('stg_campaign__contacts'),
        ref('stg_campaign__responses'),
    ]) }}
),

all_branches as (
    select branch_id from branches
    union
    select branch_id from referenced_branches
),

final as (
    select
        all_branches.branch_id,
        branches.branch_name,
        branches.branch_type,
        branches.city,
        branches.region,
        cast(coalesce(rep_counts.n_reps, 0) as integer) as n_reps,
        branches.branch_id is null as is_inferred
    from all_branches
    left join branches
        on all_branches.branch_id = branches.branch_id
    left join rep_counts
        on all_branches.branch_id = rep_counts.branch_id
)

select * from final
