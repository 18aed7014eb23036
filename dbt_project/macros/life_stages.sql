{#
    True when the demographic part of a life-stage rule (columns age_min, age_max,
    marital_statuses, occupations of `rule`) matches a customer. A null bound or list in the
    rule matches anything; the life-event condition is checked separately (it needs events).
#}
{% macro life_stage_rule_matches(rule, age, marital_status, occupation) -%}
    (
        ({{ rule }}.age_min is null or {{ age }} >= {{ rule }}.age_min)
        and ({{ rule }}.age_max is null or {{ age }} <= {{ rule }}.age_max)
        and (
            {{ rule }}.marital_statuses is null
            or {{ pipe_list_contains(rule ~ '.marital_statuses', marital_status) }}
        )
        and (
            {{ rule }}.occupations is null
            or {{ pipe_list_contains(rule ~ '.occupations', occupation) }}
        )
    )
{%- endmacro %}
