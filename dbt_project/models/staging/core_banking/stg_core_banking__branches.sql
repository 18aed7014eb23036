with

source as (
    select * from {{ source('core_banking', 'branches') }}
),

renamed as (
    select
        trim(branch_id) as branch_id,
        {{ normalise_text('branch_name') }} as branch_name,
        {{ normalise_text('city') }} as city,
        {{ normalise_text('region') }} as region,
        coalesce({{ normalise_code('branch_type') }}, 'branch') as branch_type,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'branch_id', load_order_desc()) }}
),

final as (
    select
        branch_id,
        branch_name,
        city,
        region,
        branch_type,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
