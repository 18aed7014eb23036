{#
    The golden record of each core customer: core-banking attributes, completed by the CRM
    records identity resolution matched to the customer. Survivorship: core banking wins; a
    contact field core banking lacks is taken from the most recently updated matched CRM
    record that has it; join_reason exists only in the CRM (latest matched record).
#}
with

customers as (
    select
        customer_id,
        national_id,
        first_name,
        last_name,
        birth_date,
        gender,
        occupation,
        marital_status,
        income_band,
        city,
        region,
        home_branch_id,
        email_home,
        email_work,
        mobile_phone,
        home_address,
        work_address,
        updated_at
    from {{ ref('stg_core_banking__customers') }}
),

identities as (
    select
        source_record_id as crm_id,
        customer_id,
        match_rule
    from {{ ref('int_customer_identity_resolved') }}
    where source_system = 'crm'
        and is_matched
),

crm_customers as (
    select
        crm_id,
        email,
        mobile_phone,
        join_reason,
        updated_at
    from {{ ref('stg_crm__customers') }}
),

matched_crm as (
    select
        identities.customer_id,
        identities.crm_id,
        identities.match_rule,
        crm_customers.email,
        crm_customers.mobile_phone,
        crm_customers.join_reason,
        crm_customers.updated_at
    from identities
    inner join crm_customers
        on identities.crm_id = crm_customers.crm_id
),

crm_ranked as (
    select
        matched_crm.*,
        row_number() over (
            partition by customer_id order by updated_at desc, crm_id
        ) as recency,
        row_number() over (
            partition by customer_id
            order by case when email is null then 1 else 0 end, updated_at desc, crm_id
        ) as email_recency,
        row_number() over (
            partition by customer_id
            order by case when mobile_phone is null then 1 else 0 end, updated_at desc, crm_id
        ) as phone_recency,
        row_number() over (
            partition by customer_id
            order by case when join_reason is null then 1 else 0 end, updated_at desc, crm_id
        ) as join_reason_recency,
        count(*) over (partition by customer_id) as n_crm_records
    from matched_crm
),

crm_per_customer as (
    select
        customer_id,
        max(case when recency = 1 then crm_id end) as crm_id,
        max(case when recency = 1 then match_rule end) as crm_match_rule,
        max(case when email_recency = 1 then email end) as crm_email,
        max(case when phone_recency = 1 then mobile_phone end) as crm_mobile_phone,
        max(case when join_reason_recency = 1 then join_reason end) as join_reason,
        max(n_crm_records) as n_crm_records
    from crm_ranked
    group by customer_id
),

crm_filled as (
    select
        customers.*,
        crm_per_customer.crm_id,
        crm_per_customer.crm_match_rule,
        crm_per_customer.join_reason,
        crm_per_customer.crm_mobile_phone,
        crm_per_customer.n_crm_records,
        -- a CRM e-mail that is the core work e-mail does not become the home e-mail
        case
            when crm_per_customer.crm_email <> coalesce(customers.email_work, '')
                then crm_per_customer.crm_email
        end as crm_email
    from customers
    left join crm_per_customer
        on customers.customer_id = crm_per_customer.customer_id
),

final as (
    select
        crm_filled.customer_id,
        crm_filled.national_id,
        crm_filled.crm_id,
        crm_filled.crm_match_rule,
        crm_filled.first_name,
        crm_filled.last_name,
        crm_filled.birth_date,
        crm_filled.gender,
        crm_filled.occupation,
        crm_filled.marital_status,
        crm_filled.income_band,
        crm_filled.join_reason,
        crm_filled.city,
        crm_filled.region,
        crm_filled.home_branch_id,
        coalesce(crm_filled.email_home, crm_filled.crm_email) as email_home,
        case
            when crm_filled.email_home is not null then 'core_banking'
            when crm_filled.crm_email is not null then 'crm'
        end as email_home_source,
        crm_filled.email_work,
        coalesce(crm_filled.mobile_phone, crm_filled.crm_mobile_phone) as mobile_phone,
        case
            when crm_filled.mobile_phone is not null then 'core_banking'
            when crm_filled.crm_mobile_phone is not null then 'crm'
        end as mobile_phone_source,
        crm_filled.home_address,
        crm_filled.work_address,
        coalesce(crm_filled.n_crm_records, 0) as n_crm_records,
        crm_filled.updated_at
    from crm_filled
)

select * from final
