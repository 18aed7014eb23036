{#
    One rep of the customer's home branch per customer: the rep of the customer's most recent
    contact handled by a rep of that branch, else a deterministic hash pick among the branch's
    reps.
#}
with

customers as (
    select
        customer_id,
        home_branch_id
    from {{ ref('stg_core_banking__customers') }}
),

reps as (
    select
        rep_id,
        branch_id
    from {{ ref('stg_core_banking__reps') }}
),

rep_contacts as (
    select
        customer_id,
        rep_id,
        contacted_at,
        contact_id
    from {{ ref('stg_campaign__contacts') }}
    where rep_id is not null
        and contacted_at < {{ run_date_end() }}
),

last_home_rep_contact as (
    select
        customers.customer_id,
        rep_contacts.rep_id,
        row_number() over (
            partition by customers.customer_id
            order by rep_contacts.contacted_at desc, rep_contacts.contact_id desc
        ) as recency
    from customers
    inner join rep_contacts
        on customers.customer_id = rep_contacts.customer_id
    inner join reps
        on rep_contacts.rep_id = reps.rep_id
        and customers.home_branch_id = reps.branch_id
),

branch_reps as (
    select
        rep_id,
        branch_id,
        row_number() over (partition by branch_id order by rep_id) - 1 as rep_index,
        count(*) over (partition by branch_id) as n_branch_reps
    from reps
),

hashed_rep as (
    select
        customers.customer_id,
        branch_reps.rep_id
    from customers
    inner join branch_reps
        on customers.home_branch_id = branch_reps.branch_id
        and branch_reps.rep_index = {{ stable_bucket(
            'customers.customer_id', 'branch_reps.n_branch_reps'
        ) }}
),

final as (
    select
        customers.customer_id,
        customers.home_branch_id,
        coalesce(last_home_rep_contact.rep_id, hashed_rep.rep_id) as rep_id,
        case
            when last_home_rep_contact.rep_id is not null then 'last_contact'
            when hashed_rep.rep_id is not null then 'hash'
        end as rep_assignment
    from customers
    left join last_home_rep_contact
        on customers.customer_id = last_home_rep_contact.customer_id
        and last_home_rep_contact.recency = 1
    left join hashed_rep
        on customers.customer_id = hashed_rep.customer_id
)

select * from final
