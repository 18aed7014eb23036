-- Customers the call centre should call today: an alert is raised (recent life event or
-- recent acceptance), no complaint is open, the call centre is an allowed channel for them
-- and they have a phone. Sorted by the number of alerts, then the churn-risk score.
select
    customers.customer_id,
    customers.first_name,
    customers.last_name,
    customers.mobile_phone,
    customers.segment_name,
    customers.life_stage_name,
    customers.alerts,
    customers.last_life_event_type,
    customers.last_contact_at,
    customers.last_contact_channel,
    cast(json_extract_string(customers.latest_scores, '$.churn_risk') as double) as churn_risk
from core.customer_360 as customers
where customers.n_alerts > 0
    and not customers.has_open_complaint
    and customers.mobile_phone is not null
    and contains('|' || customers.marketable_channels || '|', '|call_center|')
    and (customers.has_recent_life_event or customers.has_recent_hard_response)
order by customers.n_alerts desc, churn_risk desc nulls last, customers.customer_id
limit 500
