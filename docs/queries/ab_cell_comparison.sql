-- A/B test read-out: for every offer tested in more than one cell, each cell's soft and hard
-- response rates and the hard-rate difference against the reference cell (A) with its 95%
-- interval. Reads the masked `analyst` views, the default path for analysts.
with

cells as (
    select
        campaign_id,
        offer_id,
        cell,
        reference_cell,
        n_cells,
        n_contacts,
        soft_response_rate,
        hard_response_rate,
        hard_rate_diff_vs_reference,
        hard_rate_diff_ci_lower,
        hard_rate_diff_ci_upper
    from analyst.rpt_cell_comparison
    where n_cells > 1
),

final as (
    select
        campaign_id,
        offer_id,
        cell,
        reference_cell,
        n_contacts,
        round(soft_response_rate * 100, 2) as soft_rate_pct,
        round(hard_response_rate * 100, 2) as hard_rate_pct,
        round(hard_rate_diff_vs_reference * 100, 2) as diff_vs_reference_pts,
        round(hard_rate_diff_ci_lower * 100, 2) as diff_ci_lower_pts,
        round(hard_rate_diff_ci_upper * 100, 2) as diff_ci_upper_pts,
        case
            when cell = reference_cell then 'reference'
            when hard_rate_diff_ci_lower > 0 then 'better'
            when hard_rate_diff_ci_upper < 0 then 'worse'
            else 'no clear difference'
        end as verdict
    from cells
)

select * from final
order by offer_id, cell
