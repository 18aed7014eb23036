{#
    Next-best-offer for the run date, the export interface: the offers arbitration selected
    (int_offer_arbitrated.is_selected), one row per customer and offer on its chosen channel,
    control-group rows included (is_control; the export leaves them out of the files).
    rank renumbers a customer's rows 1..n by score desc (ties by offer_id). Contact fields are
    those the customer's preferences pick for the channel's message kind.
    An intraday run (decision scope `responses`, macros/decision_scope.sql) keeps the day's
    arbitration and leaves out the pairs a response now suppresses; with revise_after_response
    on, the replacements int_offer_revised chose for them come in on the same channels.
#}
with

selected as (
    select
        customer_id,
        offer_id,
        channel,
        campaign_id,
        product_id,
        score,
        propensity,
        product_value,
        cell,
        is_control
    from {{ ref('int_offer_arbitrated') }}
    where is_selected
),

-- intraday replacements of answered pairs (none after a daily run)
revised as (
    select
        customer_id,
        offer_id,
        channel,
        campaign_id,
        product_id,
        score,
        propensity,
        product_value,
        cell,
        false as is_control
    from {{ ref('int_offer_revised') }}
),

selected_or_revised as (
    select * from selected
    union all
    select * from revised
),

-- rows of customers re-decided by an intraday run that a per-candidate rule now suppresses
-- (none after a daily run: the arbitration only saw candidates that passed every rule)
now_suppressed as (
    select
        customer_id,
        offer_id,
        channel
    from {{ ref('int_offer_candidates') }}
    where is_redecided_intraday
        and suppression_reason is not null
),

still_selected as (
    select
        selected_or_revised.*
    from selected_or_revised
    left join now_suppressed
        on selected_or_revised.customer_id = now_suppressed.customer_id
        and selected_or_revised.offer_id = now_suppressed.offer_id
        and selected_or_revised.channel = now_suppressed.channel
    where now_suppressed.customer_id is null
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
        message_kind
    from {{ ref('stg_config__channels') }}
),

with_contact_fields as (
    select
        still_selected.*,
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
    from still_selected
    inner join customers
        on still_selected.customer_id = customers.customer_id
    inner join channels
        on still_selected.channel = channels.channel_code
),

ranked as (
    select
        with_contact_fields.*,
        row_number() over (
            partition by customer_id
            order by score desc, offer_id
        ) as offer_rank
    from with_contact_fields
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
    from ranked
)

select * from final
