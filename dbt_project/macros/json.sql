{#
    A JSON object built from the key/value pairs of a group, as text: {"email": "opt_in", ...}.
    Rows with a null key are left out. Key order is not significant (RFC 8259) and not fixed:
    sorting every group's keys costs more than the whole aggregation on large groups. JSON
    functions differ between engines, hence the dispatch.
#}
{% macro json_object_agg(key, value) -%}
    {{ return(adapter.dispatch('json_object_agg', 'campaign_mart')(key, value)) }}
{%- endmacro %}

{% macro duckdb__json_object_agg(key, value) -%}
    (
        '{'
        || string_agg(
            cast(to_json({{ key }}) as {{ dbt.type_string() }})
            || ':'
            || coalesce(cast(to_json({{ value }}) as {{ dbt.type_string() }}), 'null'),
            ','
        ) filter (where {{ key }} is not null)
        || '}'
    )
{%- endmacro %}

{% macro postgres__json_object_agg(key, value) -%}
    cast(
        json_object_agg({{ key }}, {{ value }})
            filter (where {{ key }} is not null)
        as {{ dbt.type_string() }}
    )
{%- endmacro %}

{% macro default__json_object_agg(key, value) -%}
    {{ exceptions.raise_compiler_error(
        "json_object_agg has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__json_object_agg in macros/json.sql"
    ) }}
{%- endmacro %}
