{#
    The arms a customer is assigned to, per campaign: stable hashes of (customer, campaign), so
    every run and every model that assigns (the arbitration, the intraday revisions) agrees.
    - control_member: the customer is in the campaign's random control group (held out) when
      the hash's bucket of 10,000 falls below the control rate;
    - ab_cell: the A/B cell, one of the offer's pipe-separated cells, by a second hash.
#}
{% macro control_member(customer_id, campaign_id, control_rate) -%}
    {{ stable_bucket(customer_id ~ " || '|' || " ~ campaign_id, 10000) }}
        / 10000.0 < {{ control_rate }}
{%- endmacro %}

{% macro ab_cell(customer_id, campaign_id, cells) -%}
    {{ pipe_list_element(
        cells,
        stable_bucket(
            customer_id ~ " || '|' || " ~ campaign_id ~ " || '|cell'",
            pipe_list_length(cells)
        ) ~ ' + 1'
    ) }}
{%- endmacro %}
