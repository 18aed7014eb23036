{#
    Attribution: each response is credited to at most one contact, within the attribution
    window (attribution_window_days of the decisioning settings):
      1. given   - the contact_id the source sent, when that contact exists, is for the same
                   customer and offer, and the response came 0..window days after it;
      2. matched - otherwise the latest contact of the same customer and offer 0..window days
                   before the response, a treated contact on the response's channel first (a
                   control contact was never delivered: its channel says nothing of the response);
      3. unattributed - otherwise; the response is kept with contact_id null and the reason.
    Control-group contacts count: a control customer's response measures the control rate.
#}
with

responses as (
    select
        response_id,
        customer_id,
        offer_id,
        contact_id as given_contact_id,
        channel,
        response_type,
        rep_id,
        branch_id,
        responded_at,
        _loaded_at
    from {{ ref('stg_campaign__responses') }}
),

contacts as (
    select
        contact_id,
        customer_id,
        offer_id,
        channel,
        is_control,
        contacted_at
    from {{ ref('stg_campaign__contacts') }}
),

settings as (
    select
        attribution_window_days
    from {{ ref('stg_config__decision_settings') }}
),

given_checked as (
    select
        responses.response_id,
        contacts.contact_id,
        case
            when contacts.contact_id is null then 'given_contact_unknown'
            when contacts.customer_id <> responses.customer_id
                or contacts.offer_id <> responses.offer_id
                then 'given_contact_mismatch'
            when contacts.contacted_at > responses.responded_at
                or responses.responded_at > {{ dbt.dateadd(
                    'day', 'settings.attribution_window_days', 'contacts.contacted_at'
                ) }}
                then 'given_contact_outside_window'
        end as given_contact_problem
    from responses
    cross join settings
    left join contacts
        on responses.given_contact_id = contacts.contact_id
    where responses.given_contact_id is not null
),

needs_matching as (
    select
        responses.response_id,
        responses.customer_id,
        responses.offer_id,
        responses.channel,
        responses.responded_at
    from responses
    left join given_checked
        on responses.response_id = given_checked.response_id
    where given_checked.response_id is null
        or given_checked.given_contact_problem is not null
),

match_candidates as (
    select
        needs_matching.response_id,
        contacts.contact_id,
        row_number() over (
            partition by needs_matching.response_id
            order by
                case
                    when contacts.channel = needs_matching.channel and not contacts.is_control
                        then 0
                    else 1
                end,
                contacts.contacted_at desc,
                contacts.contact_id
        ) as match_order
    from needs_matching
    cross join settings
    inner join contacts
        on needs_matching.customer_id = contacts.customer_id
        and needs_matching.offer_id = contacts.offer_id
        and contacts.contacted_at <= needs_matching.responded_at
        and contacts.contacted_at >= {{ dbt.dateadd(
            'day', '-1 * settings.attribution_window_days', 'needs_matching.responded_at'
        ) }}
),

matched as (
    select
        response_id,
        contact_id
    from match_candidates
    where match_order = 1
),

attributed as (
    select
        responses.*,
        case
            when given_checked.response_id is not null
                and given_checked.given_contact_problem is null
                then given_checked.contact_id
            else matched.contact_id
        end as contact_id,
        case
            when given_checked.response_id is not null
                and given_checked.given_contact_problem is null
                then 'given'
            when matched.contact_id is not null then 'matched'
            else 'unattributed'
        end as attribution_status,
        case
            when matched.contact_id is null
                and (
                    given_checked.response_id is null
                    or given_checked.given_contact_problem is not null
                )
                then coalesce(given_checked.given_contact_problem, 'no_contact_in_window')
        end as unattributed_reason
    from responses
    left join given_checked
        on responses.response_id = given_checked.response_id
    left join matched
        on responses.response_id = matched.response_id
),

final as (
    select
        attributed.response_id,
        attributed.customer_id,
        attributed.offer_id,
        attributed.contact_id,
        attributed.given_contact_id,
        attributed.attribution_status,
        attributed.unattributed_reason,
        attributed.channel,
        contacts.channel as contact_channel,
        contacts.is_control as is_control_contact,
        attributed.response_type,
        attributed.rep_id,
        attributed.branch_id,
        contacts.contacted_at,
        attributed.responded_at,
        attributed._loaded_at
    from attributed
    left join contacts
        on attributed.contact_id = contacts.contact_id
)

select * from final
