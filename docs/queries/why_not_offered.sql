-- Why did customer X not get offer Y on channel Z? (the suppression log, latest run day)
-- Put the customer, offer and channel in `question` (uncomment the literal line); as shipped
-- the query explains the first suppressed SMS candidate of the day, so that it runs as is.
-- A candidate the log has no row for was never considered; `explanation` then says why
-- (unknown customer, product off the customer's segment path, channel not used by the offer
-- or not allowed for the product, offer outside the logged window).
with

latest_run as (
    select max(run_date) as run_date
    from decisioning.fct_offer_eligibility
),

question as (
    -- select 'C0000042' as customer_id, 'OF0005' as offer_id, 'sms' as channel
    select log.customer_id, log.offer_id, log.channel
    from decisioning.fct_offer_eligibility as log
    inner join latest_run on log.run_date = latest_run.run_date
    where log.channel = 'sms'
        and log.eligibility_status <> 'eligible'
    order by log.customer_id, log.offer_id
    limit 1
),

logged as (
    select log.*
    from decisioning.fct_offer_eligibility as log
    inner join latest_run on log.run_date = latest_run.run_date
    inner join question
        on log.customer_id = question.customer_id
        and log.offer_id = question.offer_id
        and log.channel = question.channel
),

offered_instead as (
    select
        nbo.customer_id,
        string_agg(
            nbo.offer_id || ' on ' || nbo.channel
            || case when nbo.is_control then ' (control group)' else '' end,
            ', ' order by nbo.rank
        ) as offers_today
    from decisioning.nbo as nbo
    inner join question on nbo.customer_id = question.customer_id
    group by nbo.customer_id
),

explained as (
    select
        latest_run.run_date,
        question.customer_id,
        question.offer_id,
        question.channel,
        coalesce(logged.eligibility_status, 'not_considered') as eligibility_status,
        case
            when logged.eligibility_status = 'off_path' then
                'product ' || logged.product_id || ' is not on the path of segment '
                || coalesce(logged.segment_code, '(none)')
            when logged.eligibility_status = 'already_held' then 'the customer holds the product'
            when logged.eligibility_status = 'no_consent' then
                'no consent for the channel (all: ' || coalesce(logged.consent_status_all, 'none')
                || ', ' || logged.product_category || ': '
                || coalesce(logged.consent_status_topic, 'none')
                || case when logged.requires_opt_in then '; the channel needs an opt-in' else '' end
                || ')'
            when logged.eligibility_status = 'topic_opt_out' then
                'opted out of ' || logged.product_category || ' offers on this channel'
            when logged.eligibility_status = 'open_complaint' then 'a complaint is open'
            when logged.eligibility_status = 'responded_recently' then
                'responded to this offer recently (any channel)'
            when logged.eligibility_status = 'declined_cooldown' then
                'declined the product ' || logged.days_since_decline || ' days ago (cool-down)'
            when logged.eligibility_status = 'frequency_cap' then
                'contact policy: ' || logged.n_contacts_7d || ' contacts in 7 days, '
                || logged.n_contacts_30d || ' in 30 days on the channel, last contact with the '
                || 'product ' || coalesce(logged.days_since_product_contact || ' days ago', 'never')
                || ' (or a better offer of the same product, or today''s contacts, took the slot)'
            when logged.eligibility_status = 'capacity' then
                'the channel''s daily capacity went to higher scores'
            when logged.eligibility_status = 'offer_not_active' then
                'the offer or its campaign is not valid on the run date'
            when logged.eligibility_status = 'control_group' then
                'held out: the customer is in the control group of the campaign'
            when logged.eligibility_status = 'tier_conflict' then
                'a ' || logged.product_tier || ' product would be mixed with another tier today'
            when logged.eligibility_status = 'eligible' then
                'eligible; ' || logged.selection_note
            when customers.customer_id is null then 'unknown customer'
            when paths.product_id is null then
                'product ' || offers.product_id || ' is not on the path of segment '
                || coalesce(customers.segment_code, '(none)')
            when offers.offer_id is null then 'unknown offer'
            when not contains('|' || offers.channels || '|', '|' || question.channel || '|') then
                'the offer does not use this channel'
            else 'not considered: channel not allowed for the product, or offer outside the window'
        end as explanation,
        logged.selection_note,
        logged.is_selected,
        logged.segment_code,
        logged.product_id,
        logged.score,
        offered_instead.offers_today
    from question
    cross join latest_run
    left join logged
        on question.customer_id = logged.customer_id
        and question.offer_id = logged.offer_id
        and question.channel = logged.channel
    left join core.dim_customer as customers on question.customer_id = customers.customer_id
    left join core.dim_offer as offers on question.offer_id = offers.offer_id
    left join config.product_paths as paths
        on customers.segment_code = paths.segment_code
        and offers.product_id = paths.product_id
    left join offered_instead on question.customer_id = offered_instead.customer_id
)

select * from explained
