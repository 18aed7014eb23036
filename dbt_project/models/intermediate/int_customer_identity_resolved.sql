{#
    Identity resolution: every core-banking and CRM record, stitched to one core customer.

    A core record is its own customer (match_rule `core_record`). A CRM record is matched by
    the first rule, in this order, that points to exactly one core customer:
      1. national_id  - the normalised national id
      2. email        - the normalised e-mail equals the core home or work e-mail
      3. phone        - the normalised mobile phone
    A rule that points to several customers is skipped (listed in ambiguous_rules) and the next
    rule is tried; a CRM record no rule matches keeps customer_id null (match_rule `none`).
    The result is deterministic and no CRM record can map to two customers.
#}
with

core_customers as (
    select
        customer_id,
        national_id,
        email_home,
        email_work,
        mobile_phone
    from {{ ref('stg_core_banking__customers') }}
),

crm_customers as (
    select
        crm_id,
        national_id,
        email,
        mobile_phone
    from {{ ref('stg_crm__customers') }}
),

match_rules as (
    select 'national_id' as match_rule, 1 as rule_order
    union all
    select 'email' as match_rule, 2 as rule_order
    union all
    select 'phone' as match_rule, 3 as rule_order
),

core_identifiers as (
    select customer_id, 'national_id' as match_rule, national_id as identifier
    from core_customers
    where national_id is not null
    union
    select customer_id, 'email' as match_rule, email_home as identifier
    from core_customers
    where email_home is not null
    union
    select customer_id, 'email' as match_rule, email_work as identifier
    from core_customers
    where email_work is not null
    union
    select customer_id, 'phone' as match_rule, mobile_phone as identifier
    from core_customers
    where mobile_phone is not null
),

crm_identifiers as (
    select crm_id, 'national_id' as match_rule, national_id as identifier
    from crm_customers
    where national_id is not null
    union all
    select crm_id, 'email' as match_rule, email as identifier
    from crm_customers
    where email is not null
    union all
    select crm_id, 'phone' as match_rule, mobile_phone as identifier
    from crm_customers
    where mobile_phone is not null
),

rule_candidates as (
    select
        crm_identifiers.crm_id,
        crm_identifiers.match_rule,
        count(distinct core_identifiers.customer_id) as n_candidates,
        min(core_identifiers.customer_id) as customer_id
    from crm_identifiers
    inner join core_identifiers
        on crm_identifiers.match_rule = core_identifiers.match_rule
        and crm_identifiers.identifier = core_identifiers.identifier
    group by crm_identifiers.crm_id, crm_identifiers.match_rule
),

ranked_rules as (
    select
        rule_candidates.crm_id,
        rule_candidates.match_rule,
        rule_candidates.customer_id,
        rule_candidates.n_candidates,
        match_rules.rule_order,
        row_number() over (
            partition by rule_candidates.crm_id
            order by match_rules.rule_order
        ) as match_order
    from rule_candidates
    inner join match_rules
        on rule_candidates.match_rule = match_rules.match_rule
    where rule_candidates.n_candidates = 1
),

first_match as (
    select
        crm_id,
        match_rule,
        customer_id,
        rule_order
    from ranked_rules
    where match_order = 1
),

rule_summary as (
    select
        rule_candidates.crm_id,
        {{ dbt.listagg(
            'case when rule_candidates.n_candidates > 1 then rule_candidates.match_rule end',
            "'|'",
            'order by match_rules.rule_order'
        ) }} as ambiguous_rules
    from rule_candidates
    inner join match_rules
        on rule_candidates.match_rule = match_rules.match_rule
    group by rule_candidates.crm_id
),

other_unique_matches as (
    select
        first_match.crm_id,
        count(*) as n_conflicting_rules
    from first_match
    inner join ranked_rules
        on first_match.crm_id = ranked_rules.crm_id
        and ranked_rules.match_order > 1
        and ranked_rules.customer_id <> first_match.customer_id
    group by first_match.crm_id
),

crm_resolved as (
    select
        'crm' as source_system,
        crm_customers.crm_id as source_record_id,
        first_match.customer_id,
        coalesce(first_match.match_rule, 'none') as match_rule,
        nullif(rule_summary.ambiguous_rules, '') as ambiguous_rules,
        coalesce(other_unique_matches.n_conflicting_rules, 0) > 0 as has_conflicting_match
    from crm_customers
    left join first_match
        on crm_customers.crm_id = first_match.crm_id
    left join rule_summary
        on crm_customers.crm_id = rule_summary.crm_id
    left join other_unique_matches
        on crm_customers.crm_id = other_unique_matches.crm_id
),

core_resolved as (
    select
        'core_banking' as source_system,
        customer_id as source_record_id,
        customer_id,
        'core_record' as match_rule,
        cast(null as {{ dbt.type_string() }}) as ambiguous_rules,
        false as has_conflicting_match
    from core_customers
),

unioned as (
    select * from core_resolved
    union all
    select * from crm_resolved
),

final as (
    select
        {{ surrogate_key(['source_system', 'source_record_id']) }} as identity_sk,
        source_system,
        source_record_id,
        customer_id,
        match_rule,
        customer_id is not null as is_matched,
        ambiguous_rules,
        has_conflicting_match
    from unioned
)

select * from final
