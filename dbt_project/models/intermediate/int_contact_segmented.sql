{#
    One row per contact with the customer's segment on the contact date. Incremental: a day's
    run segments only the contacts loaded since the last run and the contacts of customers with
    rows loaded after the last run's latest customer row (customer_data_loaded_at); all of them
    when the segment rules changed (their fingerprint is kept on every row).
#}
{{ config(
    materialized='incremental',
    unique_key='contact_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{%- set segment_changes_only = incremental_target_has(
    ['segment_rules_version', 'customer_data_loaded_at']
) %}

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
        occupation,
        _loaded_at
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

rules_version as (
    select
        {{ dbt.hash(dbt.listagg(
            "concat_ws('|', segment_code, cast(priority as " ~ dbt.type_string() ~ "),"
            ~ " coalesce(cast(age_min as " ~ dbt.type_string() ~ "), '*'),"
            ~ " coalesce(cast(age_max as " ~ dbt.type_string() ~ "), '*'),"
            ~ " coalesce(income_bands, '*'), coalesce(occupations, '*'))",
            "';'",
            "order by priority, segment_code",
        )) }} as segment_rules_version
    from segment_rules
),

customer_watermark as (
    select
        max(_loaded_at) as customer_data_loaded_at
    from customers
),

{% if segment_changes_only %}
last_run as (
    select
        coalesce(max(_loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) as loaded_at,
        coalesce(
            max(customer_data_loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})
        ) as customer_data_loaded_at,
        min(segment_rules_version) as min_rules_version,
        max(segment_rules_version) as max_rules_version
    from {{ this }}
),

rules_changed as (
    select
        rules_version.segment_rules_version <> last_run.min_rules_version
        or rules_version.segment_rules_version <> last_run.max_rules_version as is_changed
    from rules_version
    cross join last_run
),

changed_customers as (
    select
        customer_id
    from customers
    where _loaded_at > (select customer_data_loaded_at from last_run)
),
{% endif %}

contacts_to_segment as (
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
    from contacts
    {% if segment_changes_only %}
    where _loaded_at > (select loaded_at from last_run)
        or customer_id in (select customer_id from changed_customers)
        or (select is_changed from rules_changed)
    {% endif %}
),

-- every contact with the customer's age on the contact date (null for unknown customers)
contact_ages as (
    select
        contacts_to_segment.*,
        customers.income_band,
        customers.occupation,
        {{ age_in_years(
            'customers.birth_date', 'cast(contacts_to_segment.contacted_at as date)'
        ) }} as age
    from contacts_to_segment
    left join customers
        on contacts_to_segment.customer_id = customers.customer_id
),

-- a customer's age changes at most once a year: match the rules once per (customer, age)
customer_ages as (
    select distinct
        customer_id,
        age,
        income_band,
        occupation
    from contact_ages
    where age is not null
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

first_match as (
    select
        customer_id,
        age,
        segment_code
    from matching_rules
    where match_order = 1
),

final as (
    select
        contact_ages.contact_id,
        contact_ages.customer_id,
        contact_ages.offer_id,
        contact_ages.channel,
        contact_ages.rep_id,
        contact_ages.branch_id,
        first_match.segment_code as segment_code_at_contact,
        contact_ages.cell,
        contact_ages.is_control,
        contact_ages.contacted_at,
        rules_version.segment_rules_version,
        customer_watermark.customer_data_loaded_at,
        contact_ages._loaded_at
    from contact_ages
    cross join rules_version
    cross join customer_watermark
    left join first_match
        on contact_ages.customer_id = first_match.customer_id
        and contact_ages.age = first_match.age
)

select * from final
