{#
    Next-best-offer for the run date: the top_n_offers eligible offers per customer, each on
    its single best channel. score = propensity x product value. A channel is only used when
    the customer has every contact field it needs. Control group and A/B cell are stable
    hashes of (customer, campaign).
#}
with

candidates as (
    select
        customer_id,
        offer_id,
        channel,
        campaign_id,
        product_id,
        segment_code,
        cells,
        control_rate,
        product_value
    from {{ ref('int_offer_candidates') }}
),

propensities as (
    select
        segment_code,
        product_id,
        channel,
        propensity
    from {{ ref('int_propensity_estimated') }}
),

customers as (
    select
        customer_id,
        home_branch_id,
        rep_id,
        email_home,
        email_work,
        mobile_phone,
        home_address,
        work_address,
        email_for_detailed,
        email_for_short,
        mail_to
    from {{ ref('dim_customer') }}
),

channels as (
    select
        channel_code,
        contact_fields,
        message_kind
    from {{ ref('stg_config__channels') }}
),

settings as (
    select
        top_n_offers
    from {{ ref('stg_config__decision_settings') }}
),

with_contact_fields as (
    select
        candidates.customer_id,
        candidates.offer_id,
        candidates.channel,
        candidates.campaign_id,
        candidates.product_id,
        candidates.segment_code,
        candidates.cells,
        candidates.control_rate,
        candidates.product_value,
        channels.contact_fields,
        case
            when (
                case
                    when channels.message_kind = 'short' then customers.email_for_short
                    else customers.email_for_detailed
                end
            ) = 'work' then coalesce(customers.email_work, customers.email_home)
            else coalesce(customers.email_home, customers.email_work)
        end as email,
        customers.mobile_phone,
        case
            when customers.mail_to = 'work'
                then coalesce(customers.work_address, customers.home_address)
            else coalesce(customers.home_address, customers.work_address)
        end as postal_address,
        customers.home_branch_id,
        customers.rep_id
    from candidates
    inner join customers
        on candidates.customer_id = customers.customer_id
    inner join channels
        on candidates.channel = channels.channel_code
),

reachable as (
    select *
    from with_contact_fields
    where (
        contact_fields is null
        or (
            (not {{ pipe_list_contains('contact_fields', "'email'") }} or email is not null)
            and (
                not {{ pipe_list_contains('contact_fields', "'mobile_phone'") }}
                or mobile_phone is not null
            )
            and (
                not {{ pipe_list_contains('contact_fields', "'postal_address'") }}
                or postal_address is not null
            )
            and (
                not {{ pipe_list_contains('contact_fields', "'home_branch_id'") }}
                or home_branch_id is not null
            )
            and (not {{ pipe_list_contains('contact_fields', "'rep_id'") }} or rep_id is not null)
        )
    )
),

scored as (
    select
        reachable.*,
        propensities.propensity,
        propensities.propensity * reachable.product_value as score
    from reachable
    inner join propensities
        on reachable.segment_code = propensities.segment_code
        and reachable.product_id = propensities.product_id
        and reachable.channel = propensities.channel
),

best_channel as (
    select
        scored.*,
        row_number() over (
            partition by customer_id, offer_id
            order by score desc, channel
        ) as channel_rank
    from scored
),

ranked as (
    select
        best_channel.*,
        row_number() over (
            partition by customer_id
            order by score desc, offer_id
        ) as offer_rank
    from best_channel
    where channel_rank = 1
),

top_offers as (
    select ranked.*
    from ranked
    cross join settings
    where ranked.offer_rank <= settings.top_n_offers
),

assigned as (
    select
        top_offers.*,
        {{ stable_bucket("customer_id || '|' || campaign_id", 10000) }} / 10000.0
            < control_rate as is_control,
        {{ pipe_list_element(
            'cells',
            stable_bucket("customer_id || '|' || campaign_id || '|cell'", pipe_list_length('cells'))
            ~ ' + 1'
        ) }} as cell
    from top_offers
),

final as (
    select
        {{ run_date() }} as run_date,
        customer_id,
        offer_id,
        campaign_id,
        product_id,
        channel,
        cast(offer_rank as integer) as rank,
        score,
        propensity,
        product_value,
        cell,
        is_control,
        email,
        mobile_phone,
        postal_address,
        home_branch_id,
        rep_id
    from assigned
)

select * from final
