{#
    True on an incremental run whose target table already has every one of `columns`. A target
    built by an earlier version of the model (without them) is then refilled whole: the model
    selects every row, the merge updates them all and on_schema_change adds the new columns.
#}
{% macro incremental_target_has(columns) -%}
    {%- if not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name')
        | map('lower') | list -%}
    {%- for column in columns -%}
        {%- if column | lower not in existing -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}
