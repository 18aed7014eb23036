{#  Normalise a code coming from a source file: trimmed, lowercase, empty string = null. #}
{% macro normalise_code(expr) -%}
    nullif(lower(trim({{ expr }})), '')
{%- endmacro %}

{#  Normalise free text: trimmed, empty string = null. #}
{% macro normalise_text(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}

{#  Normalise an e-mail address: trimmed, lowercase, empty string = null. #}
{% macro normalise_email(expr) -%}
    nullif(lower(trim({{ expr }})), '')
{%- endmacro %}

{#
    Normalise a phone number to its international digits (E.164 without the '+'):
    '+32 470 12 34 56', '0032470123456' and '0470 12 34 56' all become '32470123456'.
    A national number (one leading 0) takes the country code of var phone_country_code.
#}
{% macro normalise_phone(expr) -%}
    {%- set digits = strip_non_digits(expr) -%}
    {%- set country_code = var('phone_country_code') | string -%}
    nullif(
        case
            when {{ digits }} like '00%' then substr({{ digits }}, 3)
            when {{ digits }} like '0%' then '{{ country_code }}' || substr({{ digits }}, 2)
            else {{ digits }}
        end,
        ''
    )
{%- endmacro %}

{#  Normalise an identity number: uppercase letters and digits only, empty string = null. #}
{% macro normalise_identifier(expr) -%}
    nullif({{ strip_non_alphanumeric('upper(' ~ expr ~ ')') }}, '')
{%- endmacro %}

{#  The digits of a string (regular expressions are engine-specific, hence the dispatch). #}
{% macro strip_non_digits(expr) -%}
    {{ return(adapter.dispatch('strip_non_digits', 'campaign_mart')(expr)) }}
{%- endmacro %}

{% macro default__strip_non_digits(expr) -%}
    regexp_replace({{ expr }}, '[^0-9]', '', 'g')
{%- endmacro %}

{#  Letters and digits of a string. #}
{% macro strip_non_alphanumeric(expr) -%}
    {{ return(adapter.dispatch('strip_non_alphanumeric', 'campaign_mart')(expr)) }}
{%- endmacro %}

{% macro default__strip_non_alphanumeric(expr) -%}
    regexp_replace({{ expr }}, '[^0-9A-Za-z]', '', 'g')
{%- endmacro %}
