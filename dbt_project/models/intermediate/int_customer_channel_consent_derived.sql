{#
    Consent per customer and channel at the run date, derived by the consent rule of
    CONTRACTS.md for general marketing (topic `all`): an `all` opt-out forbids the channel; a
    channel that requires opt-in needs a current `all` opt-in; any other channel is allowed
    unless opted out. Topic-level events (a product category) are summarised alongside; they
    add or remove single categories (int_offer_candidates applies them per offer).
#}
with

customers as (
    select
        customer_id
    from {{ ref('stg_core_banking__customers') }}
),

channels as (
    select
        channel_code,
        requires_opt_in
    from {{ ref('stg_config__channels') }}
),

current_consents as (
    select
        customer_id,
        channel,
        topic,
        status,
        recorded_at
    from {{ ref('int_consent_current') }}
),

general_consents as (
    select
        customer_id,
        channel,
        status,
        recorded_at
    from current_consents
    where topic = 'all'
),

topic_consents as (
    select
        customer_id,
        channel,
        {{ dbt.listagg(
            "case when status = 'opt_in' then topic end", "'|'", 'order by topic'
        ) }} as opted_in_topics,
        {{ dbt.listagg(
            "case when status = 'opt_out' then topic end", "'|'", 'order by topic'
        ) }} as opted_out_topics
    from current_consents
    where topic <> 'all'
    group by customer_id, channel
),

customer_channels as (
    select
        customers.customer_id,
        channels.channel_code as channel,
        channels.requires_opt_in
    from customers
    cross join channels
),

final as (
    select
        customer_channels.customer_id,
        customer_channels.channel,
        customer_channels.requires_opt_in,
        coalesce(general_consents.status, 'none') as consent_status,
        coalesce(general_consents.status, 'none') <> 'opt_out'
            and (
                not customer_channels.requires_opt_in
                or coalesce(general_consents.status, 'none') = 'opt_in'
            ) as is_marketing_allowed,
        nullif(topic_consents.opted_in_topics, '') as opted_in_topics,
        nullif(topic_consents.opted_out_topics, '') as opted_out_topics,
        general_consents.recorded_at as consent_recorded_at
    from customer_channels
    left join general_consents
        on customer_channels.customer_id = general_consents.customer_id
        and customer_channels.channel = general_consents.channel
    left join topic_consents
        on customer_channels.customer_id = topic_consents.customer_id
        and customer_channels.channel = topic_consents.channel
)

select * from final
