with

source as (
    select * from {{ source('crm', 'crm_customers') }}
),

renamed as (
    select
        trim(crm_id) as crm_id,
        {{ normalise_identifier('national_id') }} as national_id,
        {{ normalise_text('full_name') }} as full_name,
        {{ normalise_email('email') }} as email,
        {{ normalise_phone('mobile_phone') }} as mobile_phone,
        {{ normalise_text('city') }} as city,
        {{ normalise_code('join_reason') }} as join_reason,
        updated_at,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'crm_id', 'updated_at desc, ' ~ load_order_desc()) }}
),

final as (
    select
        crm_id,
        national_id,
        full_name,
        email,
        mobile_phone,
        city,
        join_reason,
        updated_at,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
