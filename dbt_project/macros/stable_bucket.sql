{#
    stable_bucket(expr, n): a deterministic bucket in [0, n) from the md5 of expr, the same on
    every run and every engine that implements md5. Used for control groups and A/B cells.
    The hex-to-integer step is engine-specific, hence the dispatch.
#}
{% macro stable_bucket(expr, n) -%}
    {{ return(adapter.dispatch('stable_bucket', 'campaign_mart')(expr, n)) }}
{%- endmacro %}

{% macro duckdb__stable_bucket(expr, n) -%}
    cast(
        cast(('0x' || substr({{ dbt.hash(expr) }}, 1, 8)) as ubigint) % ({{ n }})
        as integer
    )
{%- endmacro %}

{% macro postgres__stable_bucket(expr, n) -%}
    cast(
        (('x' || substr({{ dbt.hash(expr) }}, 1, 8))::bit(32)::bigint) % ({{ n }})
        as integer
    )
{%- endmacro %}

{% macro default__stable_bucket(expr, n) -%}
    {{ exceptions.raise_compiler_error(
        "stable_bucket has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__stable_bucket in macros/stable_bucket.sql"
    ) }}
{%- endmacro %}
