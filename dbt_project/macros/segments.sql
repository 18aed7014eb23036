{#
    True when a segment rule (columns age_min, age_max, income_bands, occupations of
    `rule`) matches a customer with the given age, income band and occupation. A null bound
    or list in the rule matches anything; a null customer attribute matches only an open rule.
#}
{% macro segment_rule_matches(rule, age, income_band, occupation) -%}
    (
        ({{ rule }}.age_min is null or {{ age }} >= {{ rule }}.age_min)
        and ({{ rule }}.age_max is null or {{ age }} <= {{ rule }}.age_max)
        and (
            {{ rule }}.income_bands is null
            or {{ pipe_list_contains(rule ~ '.income_bands', income_band) }}
        )
        and (
            {{ rule }}.occupations is null
            or {{ pipe_list_contains(rule ~ '.occupations', occupation) }}
        )
    )
{%- endmacro %}

{#  End of the run date as an exclusive bound for timestamps: events "as of" the run date. #}
{% macro run_date_end() -%}
    {{ dbt.dateadd('day', 1, run_date()) }}
{%- endmacro %}
