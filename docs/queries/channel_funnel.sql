-- The response funnel of every channel: treated contacts, contacts with a soft and with a
-- hard response, their rates, and how long customers take to respond (median hours).
with

contacts as (
    select
        contact_id,
        channel
    from campaign.fct_contact
    where not is_control
),

responses as (
    select
        contact_id,
        response_class,
        response_lag_hours
    from campaign.fct_response
    where contact_id is not null
),

per_contact as (
    select
        contacts.channel,
        contacts.contact_id,
        max(case when responses.response_class = 'soft' then 1 else 0 end) as has_soft,
        max(case when responses.response_class = 'hard' then 1 else 0 end) as has_hard,
        max(case when responses.response_class = 'negative' then 1 else 0 end) as has_negative,
        min(case when responses.response_class = 'hard' then responses.response_lag_hours end)
            as hours_to_hard
    from contacts
    left join responses
        on contacts.contact_id = responses.contact_id
    group by contacts.channel, contacts.contact_id
)

select
    channels.channel_code,
    channels.channel_name,
    count(*) as n_contacts,
    sum(per_contact.has_soft) as n_soft,
    sum(per_contact.has_hard) as n_hard,
    sum(per_contact.has_negative) as n_negative,
    round(avg(per_contact.has_soft), 4) as soft_rate,
    round(avg(per_contact.has_hard), 4) as hard_rate,
    round(median(per_contact.hours_to_hard), 1) as median_hours_to_hard
from per_contact
inner join core.dim_channel as channels
    on per_contact.channel = channels.channel_code
group by channels.channel_code, channels.channel_name
order by hard_rate desc, channels.channel_code
