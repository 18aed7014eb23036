{#
    Attribution: each response is credited to at most one contact, within the attribution
    window (attribution_window_days of the decisioning settings):
      1. given   - the contact_id the source sent, when that contact exists, is for the same
                   customer and offer, and the response came 0..window days after it;
      2. matched - otherwise one contact of the same customer and offer 0..window days before
                   the response, drawn in proportion to how plausible its lag is (below);
                   treated contacts on the response's channel are the only candidates when
                   there are any (a control contact was never delivered: its channel says
                   nothing of the response);
      3. unattributed - otherwise; the response is kept with contact_id null and the reason.
    Control-group contacts count: a control customer's response measures the control rate.

    Why a draw and not the latest (or earliest) contact: a response without a usable contact
    reference (every organic response of a control customer, who was never contacted, and a
    few treated ones) may answer any contact of the customer and offer in the window. Always
    taking the latest moved responses forward in time, from contacts whose attribution window
    had closed onto younger contacts that rpt_campaign_lift does not measure yet: the control
    rate of mature contacts came out low and the lift high (always the earliest: the reverse).
    Instead each candidate gets a weight = 1 + the responses of the same class (soft, hard,
    negative) and arm (treated or control contact) whose contact is known for sure and that
    came the same number of whole days after it (a usable given contact_id, or a matched
    response with a single candidate): the lag distribution the data itself shows. A
    response then goes to a candidate with probability weight / sum of its candidates'
    weights: the chance that the candidate drew it, if its lag follows that distribution and
    the candidates were equally likely to respond. So in expectation a contact is credited with
    the responses it drew, whatever the shape of the lags, and no direction in time is
    preferred. The draw is deterministic: a point from the md5 of the response_id
    (stable_bucket), laid on the candidates' weights in contact_id order.
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

response_types as (
    select
        response_type,
        response_class
    from {{ ref('stg_config__response_types') }}
),

settings as (
    select
        attribution_window_days
    from {{ ref('stg_config__decision_settings') }}
),

responses_classified as (
    select
        responses.response_id,
        responses.customer_id,
        responses.offer_id,
        responses.given_contact_id,
        responses.channel,
        responses.responded_at,
        coalesce(response_types.response_class, 'unclassified') as response_class
    from responses
    left join response_types
        on responses.response_type = response_types.response_type
),

given_checked as (
    select
        responses_classified.response_id,
        responses_classified.response_class,
        contacts.contact_id,
        contacts.is_control,
        floor(
            {{ dbt.datediff(
                'contacts.contacted_at', 'responses_classified.responded_at', 'second'
            ) }} / 86400.0
        ) as lag_days,
        case
            when contacts.contact_id is null then 'given_contact_unknown'
            when contacts.customer_id <> responses_classified.customer_id
                or contacts.offer_id <> responses_classified.offer_id
                then 'given_contact_mismatch'
            when contacts.contacted_at > responses_classified.responded_at
                or responses_classified.responded_at > {{ dbt.dateadd(
                    'day', 'settings.attribution_window_days', 'contacts.contacted_at'
                ) }}
                then 'given_contact_outside_window'
        end as given_contact_problem
    from responses_classified
    cross join settings
    left join contacts
        on responses_classified.given_contact_id = contacts.contact_id
    where responses_classified.given_contact_id is not null
),

needs_matching as (
    select
        responses_classified.response_id,
        responses_classified.customer_id,
        responses_classified.offer_id,
        responses_classified.channel,
        responses_classified.response_class,
        responses_classified.responded_at
    from responses_classified
    left join given_checked
        on responses_classified.response_id = given_checked.response_id
    where given_checked.response_id is null
        or given_checked.given_contact_problem is not null
),

match_candidates as (
    select
        needs_matching.response_id,
        needs_matching.response_class,
        contacts.contact_id,
        contacts.is_control,
        floor(
            {{ dbt.datediff(
                'contacts.contacted_at', 'needs_matching.responded_at', 'second'
            ) }} / 86400.0
        ) as lag_days,
        case
            when contacts.channel = needs_matching.channel and not contacts.is_control then 0
            else 1
        end as channel_preference
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

candidates_counted as (
    select
        match_candidates.*,
        count(*) over (partition by response_id) as n_candidates,
        min(channel_preference) over (partition by response_id) as best_channel_preference
    from match_candidates
),

-- responses whose contact is known for sure: the lag distribution the data shows
certain_lags as (
    select
        response_class,
        is_control,
        lag_days
    from given_checked
    where given_contact_problem is null
    union all
    select
        response_class,
        is_control,
        lag_days
    from candidates_counted
    where n_candidates = 1
),

lag_evidence as (
    select
        response_class,
        is_control,
        lag_days,
        count(*) as n_responses
    from certain_lags
    group by response_class, is_control, lag_days
),

candidates_weighted as (
    select
        candidates_counted.response_id,
        candidates_counted.contact_id,
        1 + coalesce(lag_evidence.n_responses, 0) as weight
    from candidates_counted
    left join lag_evidence
        on candidates_counted.response_class = lag_evidence.response_class
        and candidates_counted.is_control = lag_evidence.is_control
        and candidates_counted.lag_days = lag_evidence.lag_days
    where candidates_counted.channel_preference = candidates_counted.best_channel_preference
),

candidates_stacked as (
    select
        response_id,
        contact_id,
        weight,
        sum(weight) over (
            partition by response_id
            order by contact_id
            rows between unbounded preceding and current row
        ) as weight_through,
        sum(weight) over (partition by response_id) as weight_total,
        cast({{ stable_bucket('response_id', 1048576) }} as double) / 1048576 as draw
    from candidates_weighted
),

matched as (
    select
        response_id,
        contact_id
    from candidates_stacked
    where draw * weight_total >= weight_through - weight
        and draw * weight_total < weight_through
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
