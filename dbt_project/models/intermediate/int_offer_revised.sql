{#
    Intraday revisions of the day's lists (settings revise_after_response, default off): when
    an intraday run (decision scope `responses`) finds that a response now suppresses a pair
    already handed out, the pair is replaced by the customer's next-best offer on the same
    channel, so the channel keeps its slot (the contact caps and the channel's capacity are
    unchanged: one contact out, one in). One row per replacement, with the pair it replaces.

    A replacement is a re-decided candidate (int_offer_candidates, is_redecided_intraday) on
    the lost pair's channel that passes every per-candidate rule, has the channel's contact
    details and a score, and
    - is not an offer the customer already holds in today's lists (the morning's selection or
      an earlier revision, on any channel, answered or not): nobody gets one offer twice a day;
    - is not of a product in the customer's lists today, answered or not (one offer per
      product; an answer about a product is not followed by another offer of it);
    - is of the tier the customer's offers of the day have, when separate_tiers is on;
    - is not held out: a customer in the control group of the offer's campaign (the same
      stable hash as the arbitration's) never gets its offers; the A/B cell is the same hash too.
    The highest score wins (ties by offer_id); when two lost pairs of a customer would take
    offers of the same product, the higher-scored replacement is kept and the other lost pair
    waits for the next run.

    Incremental append, reset by the daily run (full refresh): each intraday run adds the
    replacements of the pairs lost since the last one and keeps the earlier ones, so a list
    handed out is only revised, never reshuffled; a re-run after an interruption adds nothing
    twice (a replaced pair is not replaced again). A replacement answered later is itself a
    lost pair and gets its own replacement.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=decision_scope() != 'responses',
) }}
-- the refs of the intraday branch, declared outside it (dbt parses in the daily scope):
-- depends_on: {{ ref('int_offer_candidates') }}
-- depends_on: {{ ref('int_offer_arbitrated') }}
-- depends_on: {{ ref('stg_config__decision_settings') }}
{%- if not is_response_scoped() %}
-- the daily run (and an intraday run with no table yet): no revision
select
    {{ run_date() }} as run_date,
    cast(null as varchar) as customer_id,
    cast(null as varchar) as offer_id,
    cast(null as varchar) as channel,
    cast(null as varchar) as campaign_id,
    cast(null as varchar) as product_id,
    cast(null as double) as score,
    cast(null as double) as propensity,
    cast(null as double) as product_value,
    cast(null as varchar) as cell,
    cast(null as varchar) as replaced_offer_id,
    cast(null as varchar) as replaced_reason
where false
{%- else %}
with

settings as (
    select
        revise_after_response,
        separate_tiers
    from {{ ref('stg_config__decision_settings') }}
),

redecided as (
    select
        customer_id,
        offer_id,
        channel,
        campaign_id,
        product_id,
        product_tier,
        cells,
        control_rate,
        has_contact_details,
        propensity,
        product_value,
        score,
        suppression_reason
    from {{ ref('int_offer_candidates') }}
    where is_redecided_intraday
),

morning as (
    select
        customer_id,
        offer_id,
        channel,
        product_id
    from {{ ref('int_offer_arbitrated') }}
    where is_selected
        and not is_control
        and customer_id in (select customer_id from redecided)
),

earlier_revisions as (
    select
        customer_id,
        offer_id,
        channel,
        product_id,
        replaced_offer_id
    {%- if is_incremental() %}
    from {{ this }}
    where run_date = {{ run_date() }}
    {%- else %}
    -- (a dbt unit test of the scoped logic without a built table)
    from (select null as customer_id, null as offer_id, null as channel, null as product_id,
        null as replaced_offer_id) as none_yet
    where false
    {%- endif %}
),

-- the treated pairs in today's lists of the re-decided customers
handed_out as (
    select customer_id, offer_id, channel, product_id from morning
    union all
    select customer_id, offer_id, channel, product_id from earlier_revisions
),

now_suppressed as (
    select
        customer_id,
        offer_id,
        channel,
        suppression_reason,
        product_tier
    from redecided
    where suppression_reason is not null
),

-- pairs a response (or another rule) now takes out of a list, not replaced yet
lost as (
    select
        handed_out.customer_id,
        handed_out.offer_id,
        handed_out.channel,
        now_suppressed.suppression_reason,
        now_suppressed.product_tier
    from handed_out
    inner join now_suppressed
        on handed_out.customer_id = now_suppressed.customer_id
        and handed_out.offer_id = now_suppressed.offer_id
        and handed_out.channel = now_suppressed.channel
    where not exists (
        select 1
        from earlier_revisions
        where earlier_revisions.customer_id = handed_out.customer_id
            and earlier_revisions.replaced_offer_id = handed_out.offer_id
    )
),

-- the tier of the day's offers of each customer
day_tiers as (
    select
        handed_out.customer_id,
        max(redecided.product_tier) as day_tier
    from handed_out
    inner join redecided
        on handed_out.customer_id = redecided.customer_id
        and handed_out.offer_id = redecided.offer_id
        and handed_out.channel = redecided.channel
    group by handed_out.customer_id
),

options as (
    select
        redecided.*,
        {{ control_member('redecided.customer_id', 'redecided.campaign_id',
            'redecided.control_rate') }} as is_control,
        {{ ab_cell('redecided.customer_id', 'redecided.campaign_id', 'redecided.cells') }}
            as cell
    from redecided
    where redecided.suppression_reason is null
        and redecided.has_contact_details
        and redecided.score is not null
        and not exists (
            select 1
            from handed_out
            where handed_out.customer_id = redecided.customer_id
                and handed_out.offer_id = redecided.offer_id
        )
        and not exists (
            select 1
            from handed_out
            where handed_out.customer_id = redecided.customer_id
                and handed_out.product_id = redecided.product_id
        )
),

matched as (
    select
        lost.customer_id,
        lost.offer_id as replaced_offer_id,
        lost.channel,
        lost.suppression_reason as replaced_reason,
        options.offer_id,
        options.campaign_id,
        options.product_id,
        options.score,
        options.propensity,
        options.product_value,
        options.cell,
        row_number() over (
            partition by lost.customer_id, lost.offer_id, lost.channel
            order by options.score desc, options.offer_id
        ) as option_rank
    from lost
    inner join options
        on lost.customer_id = options.customer_id
        and lost.channel = options.channel
    left join day_tiers
        on lost.customer_id = day_tiers.customer_id
    cross join settings
    where settings.revise_after_response
        and not options.is_control
        and (
            not settings.separate_tiers
            or options.product_tier is null
            or day_tiers.day_tier is null
            or options.product_tier = day_tiers.day_tier
        )
),

-- one replacement per product (so never one offer for two lost pairs): the lost pair with the
-- highest replacement score takes it (ties by the lost offer id)
assigned as (
    select
        matched.*,
        row_number() over (
            partition by customer_id, product_id
            order by score desc, replaced_offer_id, channel
        ) as taker_rank
    from matched
    where option_rank = 1
),

final as (
    select
        {{ run_date() }} as run_date,
        customer_id,
        offer_id,
        channel,
        campaign_id,
        product_id,
        score,
        propensity,
        product_value,
        cell,
        replaced_offer_id,
        replaced_reason
    from assigned
    where taker_rank = 1
)

select * from final
{%- endif %}
