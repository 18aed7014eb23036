{#  Completed years between `birth_date` and `as_of` (both dates); portable SQL. #}
{% macro age_in_years(birth_date, as_of) -%}
    (
        extract(year from {{ as_of }}) - extract(year from {{ birth_date }})
        - case
            when extract(month from {{ as_of }}) * 100 + extract(day from {{ as_of }})
                < extract(month from {{ birth_date }}) * 100 + extract(day from {{ birth_date }})
                then 1
            else 0
        end
    )
{%- endmacro %}
