{#
    A JSON object built from the key/value pairs of a group, as text: {"email": "opt_in", ...}.
    Rows with a null key are left out; keys come in alphabetical order so that the text is the
    same on every run. JSON functions differ between engines, hence the dispatch.
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
            order by {{ key }}
        ) filter (where {{ key }} is not null)
        || '}'
    )
{%- endmacro %}

{% macro postgres__json_object_agg(key, value) -%}
    cast(
        json_object_agg({{ key }}, {{ value }} order by {{ key }})
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
