{#
    The golden record of every customer, current version: core banking completed by the CRM
    (int_customer_merged), with segment, life stage and age band at the run date, the assigned
    rep, contact preferences and the latest scores. Customers that facts refer to but core
    banking does not know (their record was rejected or has not arrived yet) are kept as
    inferred members (is_inferred) so that every fact joins.
#}
with

customers as (
    select
        customer_id,
        national_id,
        crm_id,
        first_name,
        last_name,
        birth_date,
        gender,
        occupation,
        marital_status,
        income_band,
        join_reason,
        city,
        region,
        home_branch_id,
        email_home,
        email_home_source,
        email_work,
        mobile_phone,
        mobile_phone_source,
        home_address,
        work_address,
        n_crm_records,
        updated_at
    from {{ ref('int_customer_merged') }}
),

segments as (
    select
        customer_id,
        segment_code,
        age
    from {{ ref('int_customer_segment_assigned') }}
),

profiles as (
    select
        customer_id,
        life_stage_code,
        age_band_code
    from {{ ref('int_customer_profile_derived') }}
),

current_versions as (
    select
        customer_id,
        customer_history_sk
    from {{ ref('dim_customer_history') }}
    where is_current
),

reps as (
    select
        customer_id,
        rep_id
    from {{ ref('int_customer_rep_assigned') }}
),

preferences as (
    select
        customer_id,
        email_for_detailed,
        email_for_short,
        mail_to
    from {{ ref('int_preference_current') }}
),

scores as (
    select
        customer_id,
        latest_scores
    from {{ ref('int_customer_scores_summarised') }}
),

segment_names as (
    select
        segment_code,
        segment_name
    from {{ ref('stg_config__segments') }}
),

life_stages as (
    select
        life_stage_code,
        life_stage_name
    from {{ ref('life_stages') }}
),

age_bands as (
    select
        age_band_code,
        age_band_name
    from {{ ref('age_bands') }}
),

referenced_customers as (
    {{ referenced_keys('customer_id', [
        ref('stg_campaign__contacts'),
        ref('stg_campaign__responses'),
        ref('stg_core_banking__holdings'),
        ref('stg_crm__complaints'),
        ref('stg_crm__life_events'),
    ]) }}
),

all_customers as (
    select customer_id from customers
    union
    select customer_id from referenced_customers
),

final as (
    select
        all_customers.customer_id,
        current_versions.customer_history_sk,
        customers.national_id,
        customers.crm_id,
        customers.first_name,
        customers.last_name,
        customers.birth_date,
        cast(segments.age as integer) as age,
        profiles.age_band_code,
        age_bands.age_band_name,
        customers.gender,
        customers.occupation,
        customers.marital_status,
        customers.income_band,
        segments.segment_code,
        segment_names.segment_name,
        profiles.life_stage_code,
        life_stages.life_stage_name,
        customers.join_reason,
        customers.city,
        customers.region,
        customers.home_branch_id,
        reps.rep_id,
        customers.email_home,
        customers.email_work,
        '+' || customers.mobile_phone as mobile_phone,
        customers.home_address,
        customers.work_address,
        coalesce(preferences.email_for_detailed, 'home') as email_for_detailed,
        coalesce(preferences.email_for_short, 'home') as email_for_short,
        coalesce(preferences.mail_to, 'home') as mail_to,
        scores.latest_scores,
        customers.email_home_source,
        customers.mobile_phone_source,
        cast(coalesce(customers.n_crm_records, 0) as integer) as n_crm_records,
        coalesce(customers.n_crm_records, 0) > 0 as has_crm_record,
        coalesce(customers.email_home, customers.email_work) is not null as has_email,
        customers.mobile_phone is not null as has_mobile_phone,
        customers.customer_id is null as is_inferred,
        customers.updated_at
    from all_customers
    left join customers
        on all_customers.customer_id = customers.customer_id
    left join segments
        on all_customers.customer_id = segments.customer_id
    left join profiles
        on all_customers.customer_id = profiles.customer_id
    left join current_versions
        on all_customers.customer_id = current_versions.customer_id
    left join reps
        on all_customers.customer_id = reps.customer_id
    left join preferences
        on all_customers.customer_id = preferences.customer_id
    left join scores
        on all_customers.customer_id = scores.customer_id
    left join segment_names
        on segments.segment_code = segment_names.segment_code
    left join life_stages
        on profiles.life_stage_code = life_stages.life_stage_code
    left join age_bands
        on profiles.age_band_code = age_bands.age_band_code
)

select * from final
