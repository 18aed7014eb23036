{#
    A table, not a view (the staging default): one row per holding, read by four models
    (fct_holding, dim_customer, dim_product, int_offer_candidates) and three data tests, each of
    which recomputed the deduplication and the md5 key of the view; as a table, once per run.
#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('core_banking', 'holdings') }}
),

renamed as (
    select
        trim(customer_id) as customer_id,
        trim(product_id) as product_id,
        {{ normalise_code('status') }} as status,
        opened_at,
        closed_at,
        _loaded_at,
        _batch_id,
        _file,
        _row
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'customer_id, product_id, opened_at', load_order_desc()) }}
),

final as (
    select
        {{ surrogate_key(['customer_id', 'product_id', 'opened_at']) }} as holding_sk,
        customer_id,
        product_id,
        status,
        status = 'active' as is_active,
        opened_at,
        closed_at,
        _loaded_at,
        _batch_id
    from deduplicated
)

select * from final
