{#
    Keys that facts refer to, from several relations: the distinct non-null values of `column`
    (or of the expression `column` with an alias `as_name`). A dimension unions them with its
    own keys and keeps the ones it does not know as inferred members (is_inferred), so that
    every fact row joins its dimension even when the dimension's source row was rejected or
    has not arrived yet.
#}
{% macro referenced_keys(column, relations, as_name=none) -%}
    {%- set alias = as_name or column -%}
    {%- for relation in relations %}
    select {{ column }} as {{ alias }}
    from {{ relation }}
    where {{ column }} is not null
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
