{#  Pipe-separated lists ("email|sms|branch") as configuration and landing files carry them. #}

{#  True when `value` is one element of the pipe list `list` (false when either is null). #}
{% macro pipe_list_contains(list, value) -%}
    ('|' || {{ list }} || '|' like '%|' || {{ value }} || '|%')
{%- endmacro %}

{#  Number of elements of a non-empty pipe list. #}
{% macro pipe_list_length(list) -%}
    ({{ dbt.length(list) }} - {{ dbt.length(dbt.replace(list, "'|'", "''")) }} + 1)
{%- endmacro %}

{#  The n-th element (1-based) of a pipe list. #}
{% macro pipe_list_element(list, position) -%}
    {{ dbt.split_part(list, "'|'", position) }}
{%- endmacro %}
