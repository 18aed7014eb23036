with

source as (
    select * from {{ source('campaign', 'campaigns') }}
),

renamed as (
    select
        trim(campaign_id) as campaign_id,
        {{ normalise_text('campaign_name') }} as campaign_name,
        {{ normalise_text('objective') }} as objective,
        {{ normalise_text('owner') }} as owner,
        start_date,
        end_date,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'campaign_id', load_order_desc()) }}
),

final as (
    select
        campaign_id,
        campaign_name,
        objective,
        owner,
        start_date,
        end_date,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
