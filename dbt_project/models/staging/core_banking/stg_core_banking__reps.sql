with

source as (
    select * from {{ source('core_banking', 'reps') }}
),

renamed as (
    select
        trim(rep_id) as rep_id,
        trim(branch_id) as branch_id,
        {{ normalise_text('rep_name') }} as rep_name,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'rep_id', load_order_desc()) }}
),

final as (
    select
        rep_id,
        branch_id,
        rep_name,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
