{#
    A table, not a view (the staging default): read by nine models and five data tests, each of
    which recomputed the view's normalisation (trims, e-mails, phone digits) and deduplication;
    as a table, once per run.
#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('core_banking', 'customers') }}
),

renamed as (
    select
        trim(customer_id) as customer_id,
        {{ normalise_identifier('national_id') }} as national_id,
        {{ normalise_text('first_name') }} as first_name,
        {{ normalise_text('last_name') }} as last_name,
        upper({{ normalise_text('gender') }}) as gender,
        {{ normalise_code('occupation') }} as occupation,
        {{ normalise_code('marital_status') }} as marital_status,
        {{ normalise_code('income_band') }} as income_band,
        {{ normalise_text('city') }} as city,
        {{ normalise_text('region') }} as region,
        {{ normalise_text('home_branch_id') }} as home_branch_id,
        {{ normalise_email('email_home') }} as email_home,
        {{ normalise_email('email_work') }} as email_work,
        {{ normalise_phone('mobile_phone') }} as mobile_phone,
        {{ normalise_text('home_address') }} as home_address,
        {{ normalise_text('work_address') }} as work_address,
        birth_date,
        updated_at,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'customer_id', 'updated_at desc, ' ~ load_order_desc()) }}
),

final as (
    select
        customer_id,
        national_id,
        first_name,
        last_name,
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
        birth_date,
        updated_at,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
