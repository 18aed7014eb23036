-- Identity resolution never splits one CRM person over two core customers.
with

crm_identities as (
    select
        source_record_id as crm_id,
        customer_id
    from {{ ref('int_customer_identity_resolved') }}
    where source_system = 'crm'
),

final as (
    select
        crm_id,
        count(distinct customer_id) as n_customers,
        count(*) as n_rows
    from crm_identities
    group by crm_id
    having count(distinct customer_id) > 1 or count(*) > 1
)

select * from final
