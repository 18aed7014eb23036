{#  Every channel of the channel configuration, plus inferred members for codes events use. #}
with

channels as (
    select
        channel_code,
        channel_name,
        requires_opt_in,
        daily_capacity,
        cost_per_contact,
        contact_fields,
        message_kind
    from {{ ref('stg_config__channels') }}
),

referenced_channels as (
    {{ referenced_keys('channel', [
        ref('stg_campaign__contacts'),
        ref('stg_campaign__responses'),
        ref('stg_crm__consents'),
        ref('stg_crm__complaints'),
    ], as_name='channel_code') }}
),

all_channels as (
    select channel_code from channels
    union
    select channel_code from referenced_channels
),

final as (
    select
        all_channels.channel_code,
        channels.channel_name,
        coalesce(channels.requires_opt_in, false) as requires_opt_in,
        channels.daily_capacity,
        channels.cost_per_contact,
        channels.contact_fields,
        channels.message_kind,
        channels.channel_code is null as is_inferred
    from all_channels
    left join channels
        on all_channels.channel_code = channels.channel_code
)

select * from final
