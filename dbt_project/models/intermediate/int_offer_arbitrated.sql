{#
    Arbitration of the candidates that passed every suppression rule (int_offer_candidates
    with no suppression_reason) and whose channel the customer can be reached on. One row per
    such (customer, offer, channel), with the arbitration's verdict. Steps, in this order:

    1. channel order per offer: the product's channel_order (product_channels.csv) first,
       then score desc, then channel code; the first is the offer's best channel and its
       score the offer's score;
    2. one offer per product per customer and day: lower-scored offers of the same product
       -> frequency_cap;
    3. tier separation (settings separate_tiers): the tier of the customer's best offer wins;
       offers of another tier -> tier_conflict (untiered products go with either);
    4. top_n_offers per customer by score (ties by offer_id); the rest stay eligible but are
       not selected (selection_note below_top_n);
    5. control group and A/B cell: stable hashes of (customer, campaign); control rows keep
       their best channel, are selected (is_control) and use no capacity or contact budget;
    6. placement rounds: round 1 tries every other selected offer on its best channel, round
       r on its r-th channel, for 1 + capacity_fallback_channels rounds. In a round, a
       customer's rows on a channel are accepted while the customer's contacts_left_today
       on it last (else frequency_cap), then the channel's daily_capacity goes to the highest
       scores (ties by customer_id, offer_id) (else capacity). An offer that loses tries its
       next channel in the next round; one that runs out of rounds or channels is dropped
       (not replaced by a lower-ranked offer).
    Every ordering ends in stable keys, so the same inputs give the same rows.

    An intraday run (decision scope `responses`, macros/decision_scope.sql) keeps the day's
    arbitration as it is: a list already handed out loses the pairs a response suppresses
    (fct_offer_eligibility, nbo) but is not reshuffled.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=decision_scope() != 'responses',
) }}
{%- set max_rounds = 4 %}
{%- if is_response_scoped() %}
select * from {{ this }} where false
{%- else %}
with

candidates as (
    select
        customer_id,
        offer_id,
        channel,
        campaign_id,
        product_id,
        product_tier,
        channel_order,
        contacts_left_today,
        cells,
        control_rate,
        product_value,
        propensity,
        score
    from {{ ref('int_offer_candidates') }}
    where suppression_reason is null
        and has_contact_details
        and score is not null
),

channels as (
    select
        channel_code,
        daily_capacity
    from {{ ref('stg_config__channels') }}
),

settings as (
    select
        top_n_offers,
        separate_tiers,
        capacity_fallback_channels
    from {{ ref('stg_config__decision_settings') }}
),

channel_ranked as (
    select
        candidates.*,
        row_number() over (
            partition by customer_id, offer_id
            order by
                case when channel_order is null then 1 else 0 end,
                channel_order,
                score desc,
                channel
        ) as channel_choice
    from candidates
),

best_channel as (
    select
        customer_id,
        offer_id,
        campaign_id,
        product_id,
        product_tier,
        cells,
        control_rate,
        score as offer_score
    from channel_ranked
    where channel_choice = 1
),

one_per_product as (
    select
        best_channel.*,
        row_number() over (
            partition by customer_id, product_id
            order by offer_score desc, offer_id
        ) as product_rank
    from best_channel
),

lead_tier as (
    select
        customer_id,
        product_tier as lead_tier
    from (
        select
            customer_id,
            product_tier,
            row_number() over (
                partition by customer_id
                order by offer_score desc, offer_id
            ) as tier_rank
        from one_per_product
        where product_rank = 1
            and product_tier is not null
    ) as tiered
    where tier_rank = 1
),

offer_verdicts as (
    select
        one_per_product.*,
        case
            when one_per_product.product_rank > 1 then 'frequency_cap'
            when settings.separate_tiers
                and one_per_product.product_tier <> lead_tier.lead_tier then 'tier_conflict'
        end as offer_status
    from one_per_product
    cross join settings
    left join lead_tier
        on one_per_product.customer_id = lead_tier.customer_id
),

top_ranked as (
    select
        offer_verdicts.*,
        row_number() over (
            partition by customer_id
            order by offer_score desc, offer_id
        ) as offer_rank
    from offer_verdicts
    where offer_status is null
),

chosen_offers as (
    select
        top_ranked.customer_id,
        top_ranked.offer_id,
        top_ranked.offer_rank,
        {{ control_member('top_ranked.customer_id', 'top_ranked.campaign_id',
            'top_ranked.control_rate') }} as is_control,
        {{ ab_cell('top_ranked.customer_id', 'top_ranked.campaign_id', 'top_ranked.cells') }}
            as cell
    from top_ranked
    cross join settings
    where top_ranked.offer_rank <= settings.top_n_offers
),

-- the channels each treated (non-control) chosen offer may be placed on, in order
placement_options as (
    select
        channel_ranked.customer_id,
        channel_ranked.offer_id,
        channel_ranked.channel,
        channel_ranked.channel_choice,
        channel_ranked.score,
        channel_ranked.contacts_left_today,
        channels.daily_capacity
    from channel_ranked
    inner join chosen_offers
        on channel_ranked.customer_id = chosen_offers.customer_id
        and channel_ranked.offer_id = chosen_offers.offer_id
    inner join channels
        on channel_ranked.channel = channels.channel_code
    cross join settings
    where not chosen_offers.is_control
        and channel_ranked.channel_choice <= 1 + settings.capacity_fallback_channels
),

{% for round in range(1, max_rounds + 1) %}
round_{{ round }}_demand as (
    select
        placement_options.*
    from placement_options
    {%- if round > 1 %}
    left join placed_before_{{ round }} as placed_offers
        on placement_options.customer_id = placed_offers.customer_id
        and placement_options.offer_id = placed_offers.offer_id
    {%- endif %}
    where placement_options.channel_choice = {{ round }}
    {%- if round > 1 %}
        and placed_offers.offer_id is null
    {%- endif %}
),

round_{{ round }}_budget as (
    select
        round_{{ round }}_demand.*,
        row_number() over (
            partition by round_{{ round }}_demand.customer_id, round_{{ round }}_demand.channel
            order by round_{{ round }}_demand.score desc, round_{{ round }}_demand.offer_id
        ) as budget_rank,
        {%- if round > 1 %}
        coalesce(used_budget.n_placed, 0) as n_placed_for_customer
        {%- else %}
        0 as n_placed_for_customer
        {%- endif %}
    from round_{{ round }}_demand
    {%- if round > 1 %}
    left join (
        select
            customer_id,
            channel,
            count(*) as n_placed
        from placed_before_{{ round }}
        group by customer_id, channel
    ) as used_budget
        on round_{{ round }}_demand.customer_id = used_budget.customer_id
        and round_{{ round }}_demand.channel = used_budget.channel
    {%- endif %}
),

round_{{ round }}_capacity as (
    select
        round_{{ round }}_budget.*,
        (
            round_{{ round }}_budget.contacts_left_today is null
            or round_{{ round }}_budget.budget_rank
                <= round_{{ round }}_budget.contacts_left_today
                - round_{{ round }}_budget.n_placed_for_customer
        ) as is_within_budget,
        {%- if round > 1 %}
        coalesce(used_capacity.n_placed, 0) as n_placed_on_channel
        {%- else %}
        0 as n_placed_on_channel
        {%- endif %}
    from round_{{ round }}_budget
    {%- if round > 1 %}
    left join (
        select
            channel,
            count(*) as n_placed
        from placed_before_{{ round }}
        group by channel
    ) as used_capacity
        on round_{{ round }}_budget.channel = used_capacity.channel
    {%- endif %}
),

round_{{ round }}_outcome as (
    select
        customer_id,
        offer_id,
        channel,
        {{ round }} as placement_round,
        case
            when not is_within_budget then 'frequency_cap'
            when daily_capacity is not null
                and capacity_rank > daily_capacity - n_placed_on_channel then 'capacity'
            else 'placed'
        end as placement
    from (
        select
            round_{{ round }}_capacity.*,
            row_number() over (
                partition by channel, is_within_budget
                order by score desc, customer_id, offer_id
            ) as capacity_rank
        from round_{{ round }}_capacity
    ) as ranked
),

placed_before_{{ round + 1 }} as (
    {%- if round > 1 %}
    select customer_id, offer_id, channel from placed_before_{{ round }}
    union all
    {%- endif %}
    select customer_id, offer_id, channel
    from round_{{ round }}_outcome
    where placement = 'placed'
),
{% endfor %}

placements as (
    {%- for round in range(1, max_rounds + 1) %}
    select * from round_{{ round }}_outcome
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

placed_offers as (
    select
        customer_id,
        offer_id
    from placed_before_{{ max_rounds + 1 }}
),

judged as (
    select
        channel_ranked.customer_id,
        channel_ranked.offer_id,
        channel_ranked.channel,
        channel_ranked.campaign_id,
        channel_ranked.product_id,
        channel_ranked.channel_choice,
        channel_ranked.propensity,
        channel_ranked.product_value,
        channel_ranked.score,
        offer_verdicts.offer_status,
        chosen_offers.offer_rank,
        chosen_offers.offer_id is not null as is_chosen,
        coalesce(chosen_offers.is_control, false) as is_control,
        chosen_offers.cell,
        placements.placement_round,
        placements.placement,
        placed_offers.offer_id is not null as is_offer_placed
    from channel_ranked
    inner join offer_verdicts
        on channel_ranked.customer_id = offer_verdicts.customer_id
        and channel_ranked.offer_id = offer_verdicts.offer_id
    left join chosen_offers
        on channel_ranked.customer_id = chosen_offers.customer_id
        and channel_ranked.offer_id = chosen_offers.offer_id
    left join placements
        on channel_ranked.customer_id = placements.customer_id
        and channel_ranked.offer_id = placements.offer_id
        and channel_ranked.channel = placements.channel
    left join placed_offers
        on channel_ranked.customer_id = placed_offers.customer_id
        and channel_ranked.offer_id = placed_offers.offer_id
),

final as (
    select
        customer_id,
        offer_id,
        channel,
        campaign_id,
        product_id,
        channel_choice,
        offer_rank,
        placement_round,
        propensity,
        product_value,
        score,
        case
            when offer_status is not null then offer_status
            when is_chosen and is_control and channel_choice = 1 then 'control_group'
            when placement in ('frequency_cap', 'capacity') then placement
        end as arbitration_status,
        (
            offer_status is null
            and is_chosen
            and ((is_control and channel_choice = 1) or coalesce(placement = 'placed', false))
        ) as is_selected,
        is_control and channel_choice = 1 as is_control,
        case when is_chosen then cell end as cell,
        case
            when offer_status is not null then 'suppressed'
            when not is_chosen then 'below_top_n'
            when is_control and channel_choice = 1 then 'control'
            when is_control then 'other_channel_selected'
            when placement = 'placed' then 'selected'
            when placement is not null then 'suppressed'
            when is_offer_placed then 'other_channel_selected'
            else 'not_placed'
        end as selection_note
    from judged
)

select * from final
{%- endif %}
