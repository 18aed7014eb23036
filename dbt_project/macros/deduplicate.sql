{#
    Keep the latest row per key. `relation` is a CTE or relation name, `partition_by` the key
    columns, `order_by` the ordering (latest first). Portable: row_number() in a subquery.
#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    select deduplicated.*
    from (
        select
            versions.*,
            row_number() over (
                partition by {{ partition_by }}
                order by {{ order_by }}
            ) as dedupe_row_number
        from {{ relation }} as versions
    ) as deduplicated
    where deduplicated.dedupe_row_number = 1
{%- endmacro %}

{#  The tie-breakers after a source's own order_by column: latest load, then file, then row. #}
{% macro load_order_desc() -%}
    _loaded_at desc, _file desc, _row desc
{%- endmacro %}
