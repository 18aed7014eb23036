{#
    A/B cell comparison: one row per offer and A/B cell (treated contacts only; the control
    group is compared in rpt_campaign_lift). Each cell's soft and hard response rates, and its
    hard-response rate difference against the offer's reference cell (the first cell in
    alphabetical order, normally A) with a 95% Newcombe hybrid score interval.
#}
with

performance as (
    select
        campaign_id,
        offer_id,
        cell,
        n_contacts,
        n_soft_responders,
        n_hard_responders,
        hard_response_value
    from {{ ref('rpt_campaign_performance') }}
    where not is_control
        and cell is not null
),

by_cell as (
    select
        campaign_id,
        offer_id,
        cell,
        sum(n_contacts) as n_contacts,
        sum(n_soft_responders) as n_soft_responders,
        sum(n_hard_responders) as n_hard_responders,
        sum(hard_response_value) as hard_response_value
    from performance
    group by campaign_id, offer_id, cell
),

ranked as (
    select
        *,
        first_value(cell) over (partition by offer_id order by cell) as reference_cell,
        count(*) over (partition by offer_id) as n_cells
    from by_cell
),

with_reference as (
    select
        ranked.*,
        reference.n_contacts as reference_n_contacts,
        reference.n_hard_responders as reference_n_hard_responders
    from ranked
    inner join by_cell as reference
        on ranked.offer_id = reference.offer_id
        and ranked.reference_cell = reference.cell
),

final as (
    select
        {{ surrogate_key(['offer_id', 'cell']) }} as cell_comparison_sk,
        campaign_id,
        offer_id,
        cell,
        reference_cell,
        cell = reference_cell as is_reference_cell,
        cast(n_cells as integer) as n_cells,
        cast(n_contacts as bigint) as n_contacts,
        cast(n_soft_responders as bigint) as n_soft_responders,
        cast(n_hard_responders as bigint) as n_hard_responders,
        cast(n_soft_responders as double) / n_contacts as soft_response_rate,
        cast(n_hard_responders as double) / n_contacts as hard_response_rate,
        cast(hard_response_value as double) as hard_response_value,
        cast(n_hard_responders as double) / n_contacts
            - cast(reference_n_hard_responders as double) / reference_n_contacts
            as hard_rate_diff_vs_reference,
        case when cell <> reference_cell then {{ newcombe_diff_lower(
            'n_hard_responders', 'n_contacts',
            'reference_n_hard_responders', 'reference_n_contacts',
        ) }} end as hard_rate_diff_ci_lower,
        case when cell <> reference_cell then {{ newcombe_diff_upper(
            'n_hard_responders', 'n_contacts',
            'reference_n_hard_responders', 'reference_n_contacts',
        ) }} end as hard_rate_diff_ci_upper
    from with_reference
)

select * from final
