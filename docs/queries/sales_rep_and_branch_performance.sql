-- Hard responses taken per sales representative, with their branch (or dealer), city and
-- region, and the hard-response rate of the contacts they made.
with

rep_contacts as (
    select
        rep_id,
        count(*) as n_contacts
    from campaign.fct_contact
    where rep_id is not null
        and not is_control
    group by rep_id
),

rep_hard_responses as (
    select
        rep_id,
        count(*) as n_hard_responses,
        count(distinct customer_id) as n_customers
    from campaign.fct_response
    where rep_id is not null
        and response_class = 'hard'
    group by rep_id
)

select
    reps.region,
    reps.city,
    reps.branch_id,
    reps.branch_name,
    reps.branch_type,
    reps.rep_id,
    reps.rep_name,
    coalesce(rep_contacts.n_contacts, 0) as n_contacts,
    coalesce(rep_hard_responses.n_hard_responses, 0) as n_hard_responses,
    coalesce(rep_hard_responses.n_customers, 0) as n_customers,
    round(
        coalesce(rep_hard_responses.n_hard_responses, 0) / nullif(rep_contacts.n_contacts, 0), 4
    ) as hard_responses_per_contact
from core.dim_sales_rep as reps
left join rep_contacts
    on reps.rep_id = rep_contacts.rep_id
left join rep_hard_responses
    on reps.rep_id = rep_hard_responses.rep_id
where not reps.is_inferred
order by reps.region, reps.city, n_hard_responses desc, reps.rep_id
