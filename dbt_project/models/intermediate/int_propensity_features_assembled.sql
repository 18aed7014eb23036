{#
    Propensity features, point-in-time correct. One row per feature row: a sampled contact as
    of the moment it was made (row_kind 'contact': the model learns from these), or a customer
    and a product on the customer's current path not held, as of the end of the run date
    (row_kind 'scoring': propensity_scores scores these on every candidate channel).
    Every feature of a row uses only facts strictly before its as_of_at: the customer version
    valid then, holdings open then, the latest score before it, and the contacts, responses,
    life events and complaints of the history_days before it. Labels (contact rows only) come
    after as_of_at and are never features.
    Contacts are sampled by a stable hash of contact_id to at most max_training_rows, and only
    contacts with a complete label window (label_days before the end of the run date) are kept.
    Without an active model (env CMART_PROPENSITY_ACTIVE not '1', set by the pipeline when
    <models_dir>/active.json exists) nothing reads the rows: the model builds empty, so the
    daily run does not pay for it; `cmart train` builds it with the variable set.
#}
{%- set score_names = var('propensity_score_names') %}
{%- set is_model_active = env_var('CMART_PROPENSITY_ACTIVE', '0') == '1' %}

with

settings as (
    select
        max_training_rows,
        label_days,
        validation_days,
        history_days
    from {{ ref('stg_config__propensity_settings') }}
),

contacts as (
    select
        contact_id,
        customer_id,
        offer_id,
        campaign_id,
        product_id,
        channel,
        cell,
        is_control,
        contacted_at
    from {{ ref('fct_contact') }}
    where contacted_at < {{ run_date_end() }}
),

responses as (
    select
        customer_id,
        contact_id,
        product_id,
        response_class,
        contacted_at,
        responded_at
    from {{ ref('fct_response') }}
    where responded_at < {{ run_date_end() }}
),

customers as (
    select
        customer_id,
        segment_code,
        birth_date,
        gender
    from {{ ref('dim_customer') }}
    where not is_inferred
),

customer_versions as (
    select
        customer_id,
        segment_code,
        life_stage_code,
        age_band_code,
        occupation,
        marital_status,
        income_band,
        region,
        effective_from,
        effective_to
    from {{ ref('dim_customer_history') }}
),

products as (
    select
        product_id,
        category,
        tier,
        product_value
    from {{ ref('dim_product') }}
),

product_paths as (
    select
        segment_code,
        product_id,
        path_position
    from {{ ref('stg_config__product_paths') }}
),

holdings as (
    select
        customer_id,
        product_id,
        is_active,
        opened_at,
        closed_at
    from {{ ref('fct_holding') }}
),

active_offers as (
    select
        product_id,
        channels
    from {{ ref('dim_offer') }}
    where is_active_on_run_date
),

channels as (
    select
        channel_code
    from {{ ref('stg_config__channels') }}
),

scores as (
    select
        customer_id,
        score_name,
        score_value,
        scored_at
    from {{ ref('stg_analytics__scores') }}
    where scored_at < {{ run_date_end() }}
),

life_events as (
    select
        customer_id,
        event_date
    from {{ ref('fct_life_event') }}
),

complaints as (
    select
        customer_id,
        opened_at,
        closed_at
    from {{ ref('fct_complaint') }}
),

-- the spine: sampled contacts with a complete label window, then the scoring rows

labelled_contacts as (
    select
        contacts.*,
        count(*) over () as n_labelled_contacts
    from contacts
    cross join settings
    where contacts.contacted_at
        < {{ dbt.dateadd('day', '-1 * settings.label_days', run_date_end()) }}
        -- a contact whose offer (hence product) is unknown cannot be a training row
        and contacts.product_id is not null
        and contacts.customer_id is not null
),

sampled_contacts as (
    select
        labelled_contacts.*
    from labelled_contacts
    cross join settings
    where {{ stable_bucket('labelled_contacts.contact_id', 1000000) }}
        < 1000000.0 * settings.max_training_rows / labelled_contacts.n_labelled_contacts
),

hard_responses as (
    select distinct
        responses.contact_id
    from responses
    cross join settings
    where responses.response_class = 'hard'
        and responses.contact_id is not null
        and responses.responded_at < {{
            dbt.dateadd('day', 'settings.label_days', 'responses.contacted_at')
        }}
),

last_labelled_day as (
    select
        max(cast(contacted_at as date)) as contact_date
    from labelled_contacts
),

contact_rows as (
    select
        sampled_contacts.contact_id as feature_row_id,
        'contact' as row_kind,
        sampled_contacts.contact_id,
        sampled_contacts.customer_id,
        sampled_contacts.product_id,
        sampled_contacts.channel,
        cast(null as {{ dbt.type_string() }}) as candidate_channels,
        sampled_contacts.offer_id,
        sampled_contacts.campaign_id,
        sampled_contacts.cell,
        sampled_contacts.is_control,
        cast(sampled_contacts.contacted_at as date) >= {{
            dbt.dateadd('day', '1 - settings.validation_days', 'last_labelled_day.contact_date')
        }} as is_validation,
        case when hard_responses.contact_id is null then 0 else 1 end as is_hard_response,
        sampled_contacts.contacted_at as as_of_at
    from sampled_contacts
    cross join settings
    cross join last_labelled_day
    left join hard_responses
        on sampled_contacts.contact_id = hard_responses.contact_id
),

current_holdings as (
    select distinct
        customer_id,
        product_id
    from holdings
    where is_active
        and opened_at < {{ run_date_end() }}
        and (closed_at is null or closed_at >= {{ run_date_end() }})
),

product_channels as (
    select
        active_offers.product_id,
        {{ dbt.listagg('distinct channels.channel_code', "'|'") }} as candidate_channels
    from active_offers
    inner join channels
        on {{ pipe_list_contains('active_offers.channels', 'channels.channel_code') }}
    group by active_offers.product_id
),

scoring_rows as (
    select
        customers.customer_id || '|' || product_paths.product_id as feature_row_id,
        'scoring' as row_kind,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        customers.customer_id,
        product_paths.product_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        product_channels.candidate_channels,
        cast(null as {{ dbt.type_string() }}) as offer_id,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as cell,
        cast(null as boolean) as is_control,
        cast(null as boolean) as is_validation,
        cast(null as integer) as is_hard_response,
        cast({{ run_date_end() }} as {{ dbt.type_timestamp() }}) as as_of_at
    from customers
    inner join product_paths
        on customers.segment_code = product_paths.segment_code
    inner join product_channels
        on product_paths.product_id = product_channels.product_id
    left join current_holdings
        on customers.customer_id = current_holdings.customer_id
        and product_paths.product_id = current_holdings.product_id
    where current_holdings.customer_id is null
),

all_rows as (
    select * from contact_rows
    union all
    select * from scoring_rows
),

-- a constant filter: the optimiser drops every step above when it is false
spine as (
    select
        all_rows.*
    from all_rows
    where {{ 'true' if is_model_active else 'false' }}
),

-- features: each joins the spine to facts strictly before as_of_at

customer_at as (
    select
        spine.feature_row_id,
        customer_versions.segment_code,
        customer_versions.life_stage_code,
        customer_versions.age_band_code,
        customer_versions.occupation,
        customer_versions.marital_status,
        customer_versions.income_band,
        customer_versions.region,
        customers.gender,
        {{ age_in_years('customers.birth_date', 'cast(spine.as_of_at as date)') }} as age_years
    from spine
    inner join customers
        on spine.customer_id = customers.customer_id
    left join customer_versions
        on spine.customer_id = customer_versions.customer_id
        and spine.as_of_at >= customer_versions.effective_from
        and spine.as_of_at < customer_versions.effective_to
),

holdings_at as (
    select
        spine.feature_row_id,
        count(distinct case
            when holdings.closed_at is null or holdings.closed_at >= spine.as_of_at
                then holdings.product_id
        end) as n_products_held,
        count(distinct case
            when (holdings.closed_at is null or holdings.closed_at >= spine.as_of_at)
                and held_products.category = products.category
                then holdings.product_id
        end) as n_products_held_same_category,
        max(case when holdings.product_id = spine.product_id then 1 else 0 end)
            as has_held_product_before,
        cast(min({{ dbt.datediff('holdings.opened_at', 'spine.as_of_at', 'day') }}) as integer)
            as tenure_days
    from spine
    inner join holdings
        on spine.customer_id = holdings.customer_id
        and holdings.opened_at < spine.as_of_at
    left join products
        on spine.product_id = products.product_id
    left join products as held_products
        on holdings.product_id = held_products.product_id
    group by spine.feature_row_id
),

scores_before as (
    select
        spine.feature_row_id,
        scores.score_name,
        scores.score_value,
        row_number() over (
            partition by spine.feature_row_id, scores.score_name
            order by scores.scored_at desc
        ) as recency_rank
    from spine
    inner join scores
        on spine.customer_id = scores.customer_id
        and scores.scored_at < spine.as_of_at
),

scores_at as (
    select
        feature_row_id,
        {%- for name in score_names %}
        max(case when score_name = '{{ name }}' then score_value end) as score_{{ name }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from scores_before
    where recency_rank = 1
    group by feature_row_id
),

contacts_before as (
    select
        spine.feature_row_id,
        count(*) as n_contacts,
        sum(case
            when contacts.contacted_at >= {{ dbt.dateadd('day', -30, 'spine.as_of_at') }}
                then 1 else 0
        end) as n_contacts_30d,
        sum(case when contacts.product_id = spine.product_id then 1 else 0 end)
            as n_contacts_product,
        cast(min({{ dbt.datediff('contacts.contacted_at', 'spine.as_of_at', 'day') }}) as integer)
            as days_since_last_contact
    from spine
    cross join settings
    inner join contacts
        on spine.customer_id = contacts.customer_id
        and contacts.contacted_at < spine.as_of_at
        and contacts.contacted_at
        >= {{ dbt.dateadd('day', '-1 * settings.history_days', 'spine.as_of_at') }}
        and not contacts.is_control
    group by spine.feature_row_id
),

responses_before as (
    select
        spine.feature_row_id,
        sum(case when responses.response_class = 'soft' then 1 else 0 end) as n_soft_responses,
        sum(case when responses.response_class = 'hard' then 1 else 0 end) as n_hard_responses,
        sum(case when responses.response_class = 'negative' then 1 else 0 end)
            as n_negative_responses,
        sum(case
            when responses.response_class = 'soft' and responses.product_id = spine.product_id
                then 1 else 0
        end) as n_soft_responses_product,
        sum(case
            when responses.response_class = 'hard' and responses.product_id = spine.product_id
                then 1 else 0
        end) as n_hard_responses_product,
        sum(case
            when responses.response_class = 'negative'
                and responses.product_id = spine.product_id
                then 1 else 0
        end) as n_negative_responses_product
    from spine
    cross join settings
    inner join responses
        on spine.customer_id = responses.customer_id
        and responses.responded_at < spine.as_of_at
        and responses.responded_at
        >= {{ dbt.dateadd('day', '-1 * settings.history_days', 'spine.as_of_at') }}
    group by spine.feature_row_id
),

life_events_before as (
    select
        spine.feature_row_id,
        count(*) as n_life_events,
        cast(min({{ dbt.datediff('life_events.event_date', 'spine.as_of_at', 'day') }}) as integer)
            as days_since_life_event
    from spine
    cross join settings
    inner join life_events
        on spine.customer_id = life_events.customer_id
        and life_events.event_date < spine.as_of_at
        and life_events.event_date
        >= {{ dbt.dateadd('day', '-1 * settings.history_days', 'spine.as_of_at') }}
    group by spine.feature_row_id
),

complaints_at as (
    select
        spine.feature_row_id,
        count(*) as n_complaints,
        max(case
            when complaints.closed_at is null or complaints.closed_at >= spine.as_of_at
                then 1 else 0
        end) as has_open_complaint
    from spine
    inner join complaints
        on spine.customer_id = complaints.customer_id
        and complaints.opened_at < spine.as_of_at
    group by spine.feature_row_id
),

final as (
    select
        spine.feature_row_id,
        spine.row_kind,
        spine.contact_id,
        spine.customer_id,
        spine.product_id,
        spine.channel,
        spine.candidate_channels,
        spine.offer_id,
        spine.campaign_id,
        spine.cell,
        spine.is_control,
        spine.is_validation,
        spine.is_hard_response,
        customer_at.segment_code,
        customer_at.life_stage_code,
        customer_at.age_band_code,
        customer_at.occupation,
        customer_at.marital_status,
        customer_at.income_band,
        customer_at.region,
        customer_at.gender,
        products.category as product_category,
        products.tier as product_tier,
        cast(customer_at.age_years as integer) as age_years,
        products.product_value,
        product_paths.path_position,
        holdings_at.tenure_days,
        coalesce(holdings_at.n_products_held, 0) as n_products_held,
        coalesce(holdings_at.n_products_held_same_category, 0) as n_products_held_same_category,
        coalesce(holdings_at.has_held_product_before, 0) as has_held_product_before,
        {%- for name in score_names %}
        scores_at.score_{{ name }},
        {%- endfor %}
        coalesce(contacts_before.n_contacts, 0) as n_contacts,
        coalesce(contacts_before.n_contacts_30d, 0) as n_contacts_30d,
        coalesce(contacts_before.n_contacts_product, 0) as n_contacts_product,
        contacts_before.days_since_last_contact,
        coalesce(responses_before.n_soft_responses, 0) as n_soft_responses,
        coalesce(responses_before.n_hard_responses, 0) as n_hard_responses,
        coalesce(responses_before.n_negative_responses, 0) as n_negative_responses,
        coalesce(responses_before.n_soft_responses_product, 0) as n_soft_responses_product,
        coalesce(responses_before.n_hard_responses_product, 0) as n_hard_responses_product,
        coalesce(responses_before.n_negative_responses_product, 0)
            as n_negative_responses_product,
        coalesce(life_events_before.n_life_events, 0) as n_life_events,
        life_events_before.days_since_life_event,
        coalesce(complaints_at.n_complaints, 0) as n_complaints,
        coalesce(complaints_at.has_open_complaint, 0) as has_open_complaint,
        spine.as_of_at
    from spine
    inner join customer_at
        on spine.feature_row_id = customer_at.feature_row_id
    left join products
        on spine.product_id = products.product_id
    left join product_paths
        on customer_at.segment_code = product_paths.segment_code
        and spine.product_id = product_paths.product_id
    left join holdings_at
        on spine.feature_row_id = holdings_at.feature_row_id
    left join scores_at
        on spine.feature_row_id = scores_at.feature_row_id
    left join contacts_before
        on spine.feature_row_id = contacts_before.feature_row_id
    left join responses_before
        on spine.feature_row_id = responses_before.feature_row_id
    left join life_events_before
        on spine.feature_row_id = life_events_before.feature_row_id
    left join complaints_at
        on spine.feature_row_id = complaints_at.feature_row_id
)

select * from final
