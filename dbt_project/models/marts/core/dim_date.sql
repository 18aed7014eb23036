{#
    One row per calendar day from var date_dimension_start to three years after the run date.
    Weeks are ISO weeks (Monday first).
#}
with

spine as (
    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('date_dimension_start') ~ "' as date)",
        dbt.dateadd('year', 3, run_date())
    ) }}
),

days as (
    select
        cast(date_day as date) as date_day
    from spine
),

parts as (
    select
        date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast(extract(isodow from date_day) as integer) as day_of_week,
        cast(extract(week from date_day) as integer) as iso_week_number,
        cast(extract(doy from date_day) as integer) as day_of_year
    from days
),

final as (
    select
        date_day,
        year_number * 10000 + month_number * 100 + day_of_month as date_key,
        year_number,
        quarter_number,
        month_number,
        case month_number
            when 1 then 'January' when 2 then 'February' when 3 then 'March'
            when 4 then 'April' when 5 then 'May' when 6 then 'June'
            when 7 then 'July' when 8 then 'August' when 9 then 'September'
            when 10 then 'October' when 11 then 'November' when 12 then 'December'
        end as month_name,
        {{ dbt.concat([
            'cast(year_number as ' ~ dbt.type_string() ~ ')',
            "'-'",
            "case when month_number < 10 then '0' else '' end",
            'cast(month_number as ' ~ dbt.type_string() ~ ')',
        ]) }} as year_month,
        iso_week_number,
        day_of_year,
        day_of_month,
        day_of_week,
        case day_of_week
            when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday'
            when 4 then 'Thursday' when 5 then 'Friday' when 6 then 'Saturday'
            when 7 then 'Sunday'
        end as day_name,
        day_of_week >= 6 as is_weekend,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.dateadd('day', '1 - day_of_week', 'date_day') }} as date) as week_start_date,
        date_day = {{ run_date() }} as is_run_date
    from parts
)

select * from final
