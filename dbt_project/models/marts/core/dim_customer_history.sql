{#
    SCD2 history of each customer's changing attributes, from snp_customer_profile. A fact
    finds the version valid at its timestamp with
        fact_at >= effective_from and fact_at < effective_to.
    The first version of a customer also stands for the time before the mart first saw the
    customer (effective_from = 1900-01-01), so that older facts find a version too.
    A version replaced on the same run date it was opened (a re-run with new data) is dropped.
#}
with

snapshot_versions as (
    select
        customer_id,
        segment_code,
        life_stage_code,
        age_band_code,
        occupation,
        marital_status,
        income_band,
        city,
        region,
        home_branch_id,
        dbt_valid_from,
        dbt_valid_to
    from {{ ref('snp_customer_profile') }}
    where dbt_valid_to is null
        or dbt_valid_to > dbt_valid_from
),

sequenced as (
    select
        snapshot_versions.*,
        row_number() over (
            partition by customer_id order by dbt_valid_from
        ) as version_number
    from snapshot_versions
),

final as (
    select
        {{ surrogate_key(['customer_id', 'dbt_valid_from']) }} as customer_history_sk,
        customer_id,
        cast(version_number as integer) as version_number,
        segment_code,
        life_stage_code,
        age_band_code,
        occupation,
        marital_status,
        income_band,
        city,
        region,
        home_branch_id,
        dbt_valid_to is null as is_current,
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to,
        case
            when version_number = 1 then cast('1900-01-01' as {{ dbt.type_timestamp() }})
            else dbt_valid_from
        end as effective_from,
        coalesce(dbt_valid_to, cast('9999-12-31' as {{ dbt.type_timestamp() }})) as effective_to
    from sequenced
)

select * from final
