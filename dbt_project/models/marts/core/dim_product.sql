{#
    Every product of the catalogue, plus inferred members for product ids that offers,
    holdings or product paths name but the catalogue lacks (category `unknown`).
#}
with

products as (
    select
        product_id,
        product_name,
        category,
        tier,
        product_value
    from {{ ref('stg_core_banking__products') }}
),

referenced_products as (
    {{ referenced_keys('product_id', [
        ref('stg_campaign__offers'),
        ref('stg_core_banking__holdings'),
        ref('stg_config__product_paths'),
    ]) }}
),

all_products as (
    select product_id from products
    union
    select product_id from referenced_products
),

final as (
    select
        all_products.product_id,
        products.product_name,
        coalesce(products.category, 'unknown') as category,
        products.tier,
        products.product_value,
        products.product_id is null as is_inferred
    from all_products
    left join products
        on all_products.product_id = products.product_id
)

select * from final
