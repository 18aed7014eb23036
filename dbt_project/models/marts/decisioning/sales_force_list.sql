{#
    The sales force's list for the run date: per branch and rep, each customer of the branch
    with the day's top offers (the non-control nbo rows, on whatever channel they go out) and
    the talking points a rep needs before the conversation, from customer_360: products held,
    the last response and whether a complaint is open. Control-group offers are left out: a
    control customer must not hear of that offer from anyone.
#}
with

offers_today as (
    select
        run_date,
        customer_id,
        offer_id,
        campaign_id,
        product_id,
        channel,
        rank,
        score,
        cell,
        home_branch_id,
        rep_id
    from {{ ref('nbo') }}
    where not is_control
        and home_branch_id is not null
),

customers as (
    select
        customer_id,
        first_name,
        last_name,
        mobile_phone,
        segment_name,
        life_stage_name,
        n_products_held,
        held_product_ids,
        held_product_categories,
        last_response_at,
        last_response_channel,
        last_response_type,
        last_response_class,
        n_open_complaints,
        has_open_complaint
    from {{ ref('customer_360') }}
),

branches as (
    select
        branch_id,
        branch_name
    from {{ ref('dim_branch') }}
),

reps as (
    select
        rep_id,
        rep_name
    from {{ ref('dim_sales_rep') }}
),

products as (
    select
        product_id,
        product_name,
        category as product_category
    from {{ ref('dim_product') }}
),

with_talking_points as (
    select
        offers_today.run_date,
        offers_today.home_branch_id as branch_id,
        branches.branch_name,
        offers_today.rep_id,
        reps.rep_name,
        offers_today.customer_id,
        customers.first_name,
        customers.last_name,
        customers.mobile_phone,
        customers.segment_name,
        customers.life_stage_name,
        offers_today.rank,
        offers_today.offer_id,
        offers_today.campaign_id,
        offers_today.product_id,
        products.product_name,
        products.product_category,
        offers_today.channel,
        offers_today.score,
        offers_today.cell,
        coalesce(customers.n_products_held, 0) as n_products_held,
        customers.held_product_ids,
        customers.held_product_categories,
        customers.last_response_at,
        customers.last_response_channel,
        customers.last_response_type,
        customers.last_response_class,
        coalesce(customers.n_open_complaints, 0) as n_open_complaints,
        coalesce(customers.has_open_complaint, false) as has_open_complaint
    from offers_today
    left join customers
        on offers_today.customer_id = customers.customer_id
    left join branches
        on offers_today.home_branch_id = branches.branch_id
    left join reps
        on offers_today.rep_id = reps.rep_id
    left join products
        on offers_today.product_id = products.product_id
),

final as (
    select
        {{ surrogate_key(['run_date', 'customer_id', 'offer_id']) }} as sales_force_list_sk,
        run_date,
        branch_id,
        branch_name,
        rep_id,
        rep_name,
        customer_id,
        first_name,
        last_name,
        mobile_phone,
        segment_name,
        life_stage_name,
        rank,
        offer_id,
        campaign_id,
        product_id,
        product_name,
        product_category,
        channel,
        score,
        cell,
        cast(n_products_held as integer) as n_products_held,
        held_product_ids,
        held_product_categories,
        last_response_at,
        last_response_channel,
        last_response_type,
        last_response_class,
        cast(n_open_complaints as integer) as n_open_complaints,
        has_open_complaint
    from with_talking_points
)

select * from final
