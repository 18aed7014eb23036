{#
    The decision's scope (docs/configuration.md, "During the day"; README, "The response loop"):
    - `full` (default): the daily run decides every customer; the decision models are rebuilt.
    - `responses`: the intraday job (env CMART_DECISION_SCOPE, set by the pipeline) re-decides
      only the customers with a response loaded since the day's full decision. Their
      per-candidate rules are re-evaluated (int_offer_candidates, fct_offer_eligibility); the
      day's arbitration is kept, so a list already handed out loses the pairs a response now
      suppresses and is never reshuffled.

    The watermark is `responses_loaded_through` of int_offer_candidates: the newest response
    `_loaded_at` the day's full decision saw. An intraday run keeps it, so every intraday run of
    the day re-decides every customer who answered since the daily run (a superset of what
    changed): an interrupted intraday run, re-run, ends where an uninterrupted one would.
    int_offer_candidates marks the rows it re-decided (is_redecided_intraday); the models after
    it revisit exactly those customers.
#}
{% macro decision_scope() -%}
    {%- set scope = env_var('CMART_DECISION_SCOPE', 'full') -%}
    {%- if scope not in ('full', 'responses') -%}
        {{ exceptions.raise_compiler_error(
            "env CMART_DECISION_SCOPE must be 'full' or 'responses', got '" ~ scope ~ "'"
        ) }}
    {%- endif -%}
    {{ return(scope) }}
{%- endmacro %}


{# True when this model run re-decides only the responders (an incremental intraday run). #}
{% macro is_response_scoped() -%}
    {{ return(decision_scope() == 'responses' and is_incremental()) }}
{%- endmacro %}


{#
    Customers to re-decide in a response-scoped run: those with a response loaded after the
    watermark held by `watermark_relation` (int_offer_candidates, or {{ this }} inside it).
#}
{% macro response_scope_customers(watermark_relation) -%}
    select distinct
        customer_id
    from {{ ref('stg_campaign__responses') }}
    where _loaded_at > (
        select coalesce(
            min(responses_loaded_through), cast('1900-01-01' as {{ dbt.type_timestamp() }})
        )
        from {{ watermark_relation }}
    )
{%- endmacro %}
