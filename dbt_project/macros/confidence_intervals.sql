{#
    Confidence intervals for proportions and their differences, in portable SQL (sqrt and
    arithmetic only). `z` is the normal quantile of the two-sided level: 1.96 for 95 %.

    wilson_lower / wilson_upper(x, n): the Wilson score interval of the proportion x / n
    (null when n = 0):
        centre = (p + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) * sqrt(p (1 - p) / n + z² / 4n²)

    newcombe_diff_lower / newcombe_diff_upper(x1, n1, x2, n2): Newcombe's hybrid score interval
    (method 10 of Newcombe 1998) for the difference p1 - p2 of two independent proportions,
    built from the two Wilson intervals [l1, u1] and [l2, u2]:
        lower = (p1 - p2) - sqrt((p1 - l1)² + (u2 - p2)²)
        upper = (p1 - p2) + sqrt((u1 - p1)² + (p2 - l2)²)
    Unlike the Wald interval it stays inside [-1, 1] and keeps its coverage when a group has
    few or no responders (a small control group with 0 responses gives a real, wide interval).
#}

{% macro _proportion(x, n) -%}
    (cast({{ x }} as double) / nullif(cast({{ n }} as double), 0))
{%- endmacro %}

{% macro _wilson_centre(x, n, z) -%}
    (
        ({{ _proportion(x, n) }} + {{ z }} * {{ z }} / nullif(2.0 * {{ n }}, 0))
        / (1.0 + {{ z }} * {{ z }} / nullif(cast({{ n }} as double), 0))
    )
{%- endmacro %}

{% macro _wilson_half_width(x, n, z) -%}
    (
        {{ z }} / (1.0 + {{ z }} * {{ z }} / nullif(cast({{ n }} as double), 0))
        * sqrt(
            {{ _proportion(x, n) }} * (1.0 - {{ _proportion(x, n) }}) / nullif({{ n }}, 0)
            + {{ z }} * {{ z }} / nullif(4.0 * {{ n }} * {{ n }}, 0)
        )
    )
{%- endmacro %}

{% macro wilson_lower(x, n, z=1.96) -%}
    ({{ _wilson_centre(x, n, z) }} - {{ _wilson_half_width(x, n, z) }})
{%- endmacro %}

{% macro wilson_upper(x, n, z=1.96) -%}
    ({{ _wilson_centre(x, n, z) }} + {{ _wilson_half_width(x, n, z) }})
{%- endmacro %}

{% macro newcombe_diff_lower(x1, n1, x2, n2, z=1.96) -%}
    (
        ({{ _proportion(x1, n1) }} - {{ _proportion(x2, n2) }})
        - sqrt(
            power({{ _proportion(x1, n1) }} - {{ wilson_lower(x1, n1, z) }}, 2)
            + power({{ wilson_upper(x2, n2, z) }} - {{ _proportion(x2, n2) }}, 2)
        )
    )
{%- endmacro %}

{% macro newcombe_diff_upper(x1, n1, x2, n2, z=1.96) -%}
    (
        ({{ _proportion(x1, n1) }} - {{ _proportion(x2, n2) }})
        + sqrt(
            power({{ wilson_upper(x1, n1, z) }} - {{ _proportion(x1, n1) }}, 2)
            + power({{ _proportion(x2, n2) }} - {{ wilson_lower(x2, n2, z) }}, 2)
        )
    )
{%- endmacro %}
