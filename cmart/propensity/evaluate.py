"""Decision quality against the planted truth of a generated world (<data-dir>/truth/).

For the run date's contactable candidates (fct_offer_eligibility rows that passed every
per-candidate rule: eligibility_status 'eligible' or 'control_group'), the true acceptance
probability of a candidate is the planted p_hard of the customer's true segment, product and
channel, times the customer's planted acceptance factor for the product at the end of the
history (customer_effects.parquet), times the offer's planted multipliers (cell B, low
performer), capped at 0.9: the probability the generator draws responses with. Each policy contacts
every customer with as many offers as the NBO list gives them (same contact policies, same
volume), one channel per offer, its best by the policy's ranking:

- nbo: the offers and channels nbo actually selected;
- oracle: ranked by the true expected value (p_true x product value);
- model: ranked by propensity_scores.score x product value;
- segment_rate: ranked by the segment rate (int_propensity_estimated) x product value.

Reported: expected accepted offers (sum of p_true) and value (sum of p_true x value) per
policy, and each divided by the oracle's. Channel capacities and tier conflicts are not
re-applied to the alternative policies (the NBO's own list respects them).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

CONTACTABLE = ("eligible", "control_group")
EFFECTS_FILE = "customer_effects.parquet"  # cmart.generate.acceptance.TRUTH_FILE
MAX_P_HARD = 0.9  # the generator caps a treated contact's hard probability here
POLICIES = {
    "oracle": "p_true * product_value",
    "oracle_count": "p_true",
    "model": "model_score * product_value",
    "segment_rate": "segment_rate * product_value",
}


class TruthMissingError(FileNotFoundError):
    """The data dir has no planted truth (not a generated world)."""


def _register_truth(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> None:
    needed = ["customer_truth.parquet", "acceptance_rates.csv", "offer_truth.csv"]
    missing = [name for name in needed if not (truth_dir / name).exists()]
    if missing:
        raise TruthMissingError(
            f"no planted truth in {truth_dir} (missing {missing}): decision quality can only "
            "be measured on a world written by `cmart generate`"
        )
    strings = pa_csv.ConvertOptions(
        column_types={"offer_id": "string", "product_id": "string", "segment_code": "string"}
    )
    customers = pq.read_table(
        truth_dir / "customer_truth.parquet", columns=["customer_id", "segment_code"]
    )
    con.register("truth_customers", customers)
    con.register(
        "truth_rates", pa_csv.read_csv(truth_dir / "acceptance_rates.csv", convert_options=strings)
    )
    con.register(
        "truth_offers", pa_csv.read_csv(truth_dir / "offer_truth.csv", convert_options=strings)
    )
    effects = truth_dir / EFFECTS_FILE
    if effects.exists():
        con.register("truth_effects", pq.read_table(effects))
    else:  # a world written before customer-level effects: every factor is 1
        con.execute(
            "create temp table truth_effects (customer_id varchar, product_id varchar, "
            "acceptance_factor double)"
        )


def _candidates_sql(run_date: dt.date, has_scores: bool) -> str:
    statuses = ", ".join(f"'{status}'" for status in CONTACTABLE)
    model_score = "scores.score" if has_scores else "cast(null as double)"
    scores_join = (
        """left join decisioning.propensity_scores as scores
            on eligibility.customer_id = scores.customer_id
            and eligibility.product_id = scores.product_id
            and eligibility.channel = scores.channel"""
        if has_scores
        else ""
    )
    return f"""
        create temp table candidates as
        select
            eligibility.customer_id,
            eligibility.offer_id,
            eligibility.channel,
            eligibility.is_selected,
            coalesce(products.product_value, 0) as product_value,
            coalesce(estimated.propensity, eligibility.propensity) as segment_rate,
            {model_score} as model_score,
            least(
                coalesce(rates.p_hard, 0)
                    * coalesce(effects.acceptance_factor, 1)
                    * coalesce(offers.hard_rate_multiplier, 1)
                    * case when eligibility.cell = 'B'
                        then coalesce(offers.cell_b_multiplier, 1) else 1 end,
                {MAX_P_HARD}
            ) as p_true
        from decisioning.fct_offer_eligibility as eligibility
        left join core.dim_product as products
            on eligibility.product_id = products.product_id
        left join truth_customers
            on eligibility.customer_id = truth_customers.customer_id
        left join truth_rates as rates
            on truth_customers.segment_code = rates.segment_code
            and eligibility.product_id = rates.product_id
            and eligibility.channel = rates.channel
        left join truth_offers as offers
            on eligibility.offer_id = offers.offer_id
        left join intermediate.int_propensity_estimated as estimated
            on eligibility.segment_code = estimated.segment_code
            and eligibility.product_id = estimated.product_id
            and eligibility.channel = estimated.channel
        left join truth_effects as effects
            on eligibility.customer_id = effects.customer_id
            and eligibility.product_id = effects.product_id
        {scores_join}
        where eligibility.run_date = date '{run_date.isoformat()}'
            and eligibility.eligibility_status in ({statuses})
    """


def _policy_sql(ranking: str) -> str:
    return f"""
        with volume as (
            select customer_id, count(*) as n_offers
            from candidates where is_selected group by customer_id
        ),
        best_channel as (
            select *, row_number() over (
                partition by customer_id, offer_id order by {ranking} desc nulls last, channel
            ) as channel_rank
            from candidates
        ),
        ranked as (
            select *, row_number() over (
                partition by customer_id order by {ranking} desc nulls last, offer_id
            ) as offer_rank
            from best_channel where channel_rank = 1
        )
        select count(*), sum(p_true), sum(p_true * product_value)
        from ranked inner join volume using (customer_id)
        where offer_rank <= volume.n_offers
    """


def decision_quality(warehouse_path: Path, truth_dir: Path, run_date: dt.date) -> dict[str, Any]:
    """Expected accepted offers and value of each policy, and their ratio to the oracle's."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        _register_truth(con, truth_dir)
        has_scores = bool(
            con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'decisioning' and table_name = 'propensity_scores'"
            ).fetchone()[0]
        ) and bool(con.execute("select count(*) from decisioning.propensity_scores").fetchone()[0])
        con.execute(_candidates_sql(run_date, has_scores))
        versions = (
            con.execute(
                "select distinct model_version from decisioning.propensity_scores order by 1"
            ).fetchall()
            if has_scores
            else []
        )
        results: dict[str, dict[str, float]] = {}
        nbo = con.execute(
            "select count(*), sum(p_true), sum(p_true * product_value) "
            "from candidates where is_selected"
        ).fetchone()
        results["nbo"] = _totals(nbo)
        for name, ranking in POLICIES.items():
            if name == "model" and not has_scores:
                continue
            results[name] = _totals(con.execute(_policy_sql(ranking)).fetchone())
    oracle_value = results["oracle"]["expected_value"]
    oracle_count = results["oracle_count"]["expected_accepted"]
    for totals in results.values():
        totals["value_vs_oracle"] = _ratio(totals["expected_value"], oracle_value)
        totals["accepted_vs_oracle"] = _ratio(totals["expected_accepted"], oracle_count)
    return {
        "run_date": run_date.isoformat(),
        "scored_by": [row[0] for row in versions],
        "policies": results,
    }


def _totals(row: tuple[Any, ...] | None) -> dict[str, float]:
    count, accepted, value = row or (0, None, None)
    return {
        "n_offers": int(count or 0),
        "expected_accepted": round(float(accepted or 0.0), 4),
        "expected_value": round(float(value or 0.0), 2),
    }


def _ratio(value: float, reference: float) -> float | None:
    return round(value / reference, 4) if reference else None
