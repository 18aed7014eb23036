with

contacts as (
    select
        contact_id,
        customer_id,
        offer_id,
        channel,
        rep_id,
        branch_id,
        cell,
        is_control,
        contacted_at,
        _loaded_at
    from {{ ref('stg_campaign__contacts') }}
),

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

contact_ages as (
    select
        contacts.contact_id,
        contacts.customer_id,
        customers.income_band,
        customers.occupation,
        {{ age_in_years('customers.birth_date', 'cast(contacts.contacted_at as date)') }} as age
    from contacts
    inner join customers
        on contacts.customer_id = customers.customer_id
),

-- a customer's age changes at most once a year: match the rules once per (customer, age)
customer_ages as (
    select distinct
        customer_id,
        age,
        income_band,
        occupation
    from contact_ages
),

matching_rules as (
    select
        customer_ages.customer_id,
        customer_ages.age,
        segment_rules.segment_code,
        row_number() over (
            partition by customer_ages.customer_id, customer_ages.age
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

contact_segments as (
    select
        contact_ages.contact_id,
        matching_rules.segment_code
    from contact_ages
    inner join matching_rules
        on contact_ages.customer_id = matching_rules.customer_id
        and contact_ages.age = matching_rules.age
        and matching_rules.match_order = 1
),

final as (
    select
        contacts.contact_id,
        contacts.customer_id,
        contacts.offer_id,
        contacts.channel,
        contacts.rep_id,
        contacts.branch_id,
        contact_segments.segment_code as segment_code_at_contact,
        contacts.cell,
        contacts.is_control,
        contacts.contacted_at,
        contacts._loaded_at
    from contacts
    left join contact_segments
        on contacts.contact_id = contact_segments.contact_id
)

select * from final
