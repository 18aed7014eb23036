{#
    The decision day as a SQL date literal. Set with --vars '{run_date: YYYY-MM-DD}';
    defaults to today (UTC).
#}
{% macro run_date() -%}
    {%- set value = var('run_date', none) -%}
    {%- if value is none or value == '' -%}
        {%- set value = modules.datetime.datetime.now(modules.pytz.utc).date() -%}
    {%- endif -%}
    {%- set text = value | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error(
            "var run_date must be an ISO date (YYYY-MM-DD), got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    cast('{{ text }}' as date)
{%- endmacro %}
