-- How responses are attributed, per response channel: given by the source, matched within
-- the attribution window, or unattributed (and why), with cross-channel responses and the
-- median lag from contact to response.
select
    responses.channel,
    responses.attribution_status,
    coalesce(responses.unattributed_reason, '') as unattributed_reason,
    count(*) as n_responses,
    count(*) filter (where responses.is_cross_channel) as n_cross_channel,
    count(*) filter (where responses.is_control_contact) as n_from_control_group,
    round(median(responses.response_lag_hours), 1) as median_lag_hours,
    max(responses.response_lag_days) as max_lag_days
from campaign.fct_response as responses
group by
    responses.channel,
    responses.attribution_status,
    coalesce(responses.unattributed_reason, '')
order by responses.channel, responses.attribution_status, unattributed_reason
