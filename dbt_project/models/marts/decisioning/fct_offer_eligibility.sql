{#
    The suppression log: one row per run date, customer, offer and channel the decision step
    considered (int_offer_candidates' bounded candidate set), with eligibility_status =
    'eligible' or the first reason the candidate was suppressed. Rules are checked in this
    order (docs/configuration.md, "Eligibility and arbitration"): first the per-candidate
    rules of int_offer_candidates (off_path, already_held, no_consent, topic_opt_out,
    open_complaint, responded_recently, declined_cooldown, frequency_cap, offer_not_active),
    then the arbitration of int_offer_arbitrated (same-product frequency_cap, tier_conflict,
    top-N, control_group, today's frequency_cap and channel capacity). is_selected marks the
    rows that are in nbo. Incremental: a run replaces its own run date only, so a re-run of a
    day gives the same rows; the log keeps the eligibility_log_retention_days run dates up to
    this one (the post-hook deletes older days: the log grows by the whole candidate set, about
    30 rows per customer, every day). An intraday run (decision scope `responses`,
    macros/decision_scope.sql) replaces only the run date's rows of the customers it
    re-decides: their per-candidate rules are new, the day's arbitration is kept, a pair a
    response now suppresses is no longer selected, and a replacement int_offer_revised chose
    is selected with selection_note 'revised'.
#}
{%- set scoped = is_response_scoped() %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['run_date', 'customer_id'] if decision_scope() == 'responses' else 'run_date',
    on_schema_change='append_new_columns',
    post_hook=[
        "delete from {{ this }} where run_date <= "
        ~ "(select {{ run_date() }} - cast(eligibility_log_retention_days as integer) "
        ~ "from {{ ref('stg_config__decision_settings') }})",
    ],
) }}

with

candidates as (
    select
        customer_id,
        offer_id,
        channel,
        campaign_id,
        product_id,
        product_category,
        product_tier,
        segment_code,
        path_position,
        is_on_path,
        is_held,
        requires_opt_in,
        consent_status_all,
        consent_status_topic,
        has_open_complaint,
        has_responded_recently,
        days_since_decline,
        n_contacts_7d,
        n_contacts_30d,
        days_since_product_contact,
        is_offer_active,
        has_contact_details,
        propensity,
        score,
        suppression_reason
    from {{ ref('int_offer_candidates') }}
    {%- if scoped %}
    where customer_id in (
        select customer_id
        from {{ ref('int_offer_candidates') }}
        where is_redecided_intraday
    )
    {%- endif %}
),

arbitrated as (
    select
        customer_id,
        offer_id,
        channel,
        channel_choice,
        offer_rank,
        placement_round,
        arbitration_status,
        is_selected,
        is_control,
        cell,
        selection_note
    from {{ ref('int_offer_arbitrated') }}
),

-- intraday replacements of answered pairs (int_offer_revised; none after a daily run)
revised as (
    select
        customer_id,
        offer_id,
        channel,
        cell
    from {{ ref('int_offer_revised') }}
),

final as (
    select
        {{ run_date() }} as run_date,
        candidates.customer_id,
        candidates.offer_id,
        candidates.channel,
        candidates.campaign_id,
        candidates.product_id,
        candidates.product_category,
        candidates.product_tier,
        candidates.segment_code,
        coalesce(
            candidates.suppression_reason, arbitrated.arbitration_status, 'eligible'
        ) as eligibility_status,
        case
            when candidates.suppression_reason is not null then 'suppressed'
            when not candidates.has_contact_details then 'missing_contact_details'
            when revised.customer_id is not null then 'revised'
            else coalesce(arbitrated.selection_note, 'not_scored')
        end as selection_note,
        coalesce(revised.customer_id is not null or arbitrated.is_selected, false) as is_selected,
        coalesce(arbitrated.is_control, false) as is_control,
        coalesce(revised.cell, arbitrated.cell) as cell,
        cast(candidates.path_position as integer) as path_position,
        cast(arbitrated.channel_choice as integer) as channel_choice,
        cast(arbitrated.offer_rank as integer) as offer_rank,
        cast(arbitrated.placement_round as integer) as placement_round,
        candidates.is_on_path,
        candidates.is_held,
        candidates.is_offer_active,
        candidates.requires_opt_in,
        candidates.consent_status_all,
        candidates.consent_status_topic,
        candidates.has_open_complaint,
        candidates.has_responded_recently,
        candidates.has_contact_details,
        cast(candidates.days_since_decline as integer) as days_since_decline,
        cast(candidates.days_since_product_contact as integer) as days_since_product_contact,
        cast(candidates.n_contacts_7d as integer) as n_contacts_7d,
        cast(candidates.n_contacts_30d as integer) as n_contacts_30d,
        candidates.propensity,
        candidates.score
    from candidates
    left join arbitrated
        on candidates.customer_id = arbitrated.customer_id
        and candidates.offer_id = arbitrated.offer_id
        and candidates.channel = arbitrated.channel
        -- the day's arbitration only holds candidates that passed every rule; after an
        -- intraday response it may still hold a pair the response now suppresses
        and candidates.suppression_reason is null
    left join revised
        on candidates.customer_id = revised.customer_id
        and candidates.offer_id = revised.offer_id
        and candidates.channel = revised.channel
        and candidates.suppression_reason is null
)

select * from final
