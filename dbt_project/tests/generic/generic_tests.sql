{#  The combination of `columns` is unique (no dbt hub packages here). #}
{% test unique_combination(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#  The model has exactly one row. #}
{% test exactly_one_row(model) %}
    select n_rows
    from (select count(*) as n_rows from {{ model }}) as counted
    where n_rows <> 1
{% endtest %}
