"""Customer-level acceptance effects on top of the planted (segment, product, channel) rates.

Within a segment, customers differ: a hidden responsiveness (shown only through their past soft
and hard responses), income and credit score by product category (investments sell to the
well-off, loans and cards to good credit), age within the segment by category, the number of
products already held (loyal customers buy more) and a recent life event (a new job, a move,
a marriage, a child) that makes credit and insurance products timely for ``TRIGGER_DAYS``.

Every effect is a factor on a contact's hard-response probability (its square root on the soft
one: interested customers also open and click). The static factors are normalised to mean 1
within every (segment, product category), so the segment x product x channel rates, hence
the overall hard rate and the planted campaign lifts, stay what :mod:`planted` says. The factor
of every (customer, product on the customer's path) as of the end of the history is written to
``truth/customer_effects.parquet``; the oracle of ``cmart evaluate`` and the response-only
batches read it, so they use the same probabilities that drew the responses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cmart.generate import vocab
from cmart.generate.accounts import LifeEvents
from cmart.generate.catalogue import CATEGORIES, Products
from cmart.generate.frame import rng_for
from cmart.generate.people import Customers
from cmart.generate.textfmt import SECONDS_PER_DAY, fixed_to_arrow
from cmart.generate.worldconfig import WorldConfig

RESPONSIVENESS_SD = 0.55  # log-sd of the hidden per-customer responsiveness
# log-effect per category of: income (-1 lowest band .. +1 highest), credit score (z),
# age within the population (z, (age - 45) / 15)
INCOME_SLOPE = {"credit": -0.15, "card": 0.25, "deposit": 0.3, "insurance": 0.2, "investment": 0.7}
CREDIT_SLOPE = {"credit": 0.5, "card": 0.4}
AGE_SLOPE = {"credit": -0.35, "card": -0.2, "insurance": 0.25, "investment": 0.4}
HELD_SLOPE = 0.15  # log-effect per product held, centred on the mean
TRIGGER_EVENTS = ("new_job", "moved", "marriage", "child")
TRIGGER_CATEGORIES = ("credit", "insurance")
TRIGGER_FACTOR = 2.5
TRIGGER_DAYS = 90
FACTOR_RANGE = (0.1, 6.0)
TRUTH_FILE = "customer_effects.parquet"
NO_TRIGGER = np.iinfo(np.int64).min // 4


def _slopes(table: dict[str, float]) -> np.ndarray:
    return np.array([table.get(category, 0.0) for category in CATEGORIES])


@dataclass(frozen=True, eq=False)
class Effects:
    """Per customer and product category, the static acceptance factor; per customer, the day
    of the latest trigger life event (``NO_TRIGGER`` if none)."""

    static: np.ndarray  # (customers, categories) float32
    trigger_day: np.ndarray  # (customers,) int64
    category: np.ndarray  # (products,) index into CATEGORIES
    triggered: np.ndarray  # (categories,) bool: a trigger event multiplies these

    def factor(self, customer: np.ndarray, product: np.ndarray, at_s: np.ndarray) -> np.ndarray:
        """The acceptance factor of contacts of ``customer`` for ``product`` at ``at_s``."""
        category = self.category[product]
        factor = self.static[customer, category].astype(np.float64)
        since = np.asarray(at_s, dtype=np.int64) // SECONDS_PER_DAY - self.trigger_day[customer]
        recent = (since > 0) & (since <= TRIGGER_DAYS) & self.triggered[category]
        return np.where(recent, factor * TRIGGER_FACTOR, factor)


def _latest_trigger(events: LifeEvents, n_customers: int) -> np.ndarray:
    codes = [vocab.LIFE_EVENTS.index(name) for name in TRIGGER_EVENTS if name in vocab.LIFE_EVENTS]
    chosen = np.isin(events.event, codes)
    latest = np.full(n_customers, NO_TRIGGER, dtype=np.int64)
    np.maximum.at(latest, events.customer[chosen], events.day[chosen].astype(np.int64))
    return latest


def make_effects(
    cfg: WorldConfig,
    seed: int,
    customers: Customers,
    products: Products,
    n_held: np.ndarray,
    credit: np.ndarray,
    events: LifeEvents,
) -> Effects:
    rng = rng_for(seed, "acceptance_effects")
    income = customers.demographics.income.astype(np.float64)
    income = 2.0 * income / max(len(cfg.income_bands) - 1, 1) - 1.0
    credit_z = (credit - credit.mean()) / max(float(credit.std()), 1e-9)
    age_z = (customers.age.astype(np.float64) - 45.0) / 15.0
    held = n_held.astype(np.float64)
    log_static = (
        rng.normal(0.0, RESPONSIVENESS_SD, customers.count)[:, None]
        + np.outer(income, _slopes(INCOME_SLOPE))
        + np.outer(credit_z, _slopes(CREDIT_SLOPE))
        + np.outer(age_z, _slopes(AGE_SLOPE))
        + HELD_SLOPE * (held - held.mean())[:, None]
    )
    static = np.exp(log_static)
    # mean 1 within every (segment, category): segment-level rates stay as planted
    segment = customers.segment
    n_segments = len(cfg.segments)
    for column in range(static.shape[1]):
        sums = np.bincount(segment, static[:, column], minlength=n_segments)
        counts = np.maximum(np.bincount(segment, minlength=n_segments), 1)
        static[:, column] /= np.maximum(sums / counts, 1e-9)[segment]
    triggered = np.array([category in TRIGGER_CATEGORIES for category in CATEGORIES])
    return Effects(
        static=np.clip(static, *FACTOR_RANGE).astype(np.float32),
        trigger_day=_latest_trigger(events, customers.count),
        category=products.category.astype(np.int64),
        triggered=triggered,
    )


def effects_table(
    cfg: WorldConfig, effects: Effects, customers: Customers, products: Products, end_s: int
) -> pa.Table:
    """One row per customer and product on the customer's (true) path: the acceptance factor of
    a contact made at the end of the history (the oracle's run date)."""
    customer, product = np.nonzero(cfg.on_path[customers.segment])
    factor = effects.factor(customer, product, np.full(len(customer), end_s, dtype=np.int64))
    return pa.table(
        {
            "customer_id": fixed_to_arrow(customers.ids[customer]),
            "product_id": pa.array(np.array(products.ids, dtype=object)[product], pa.string()),
            "acceptance_factor": pa.array(factor.round(4)),
        }
    )


def describe() -> dict[str, object]:
    """The effect sizes, for world.json."""
    return {
        "responsiveness_sd": RESPONSIVENESS_SD,
        "income_slope": INCOME_SLOPE,
        "credit_slope": CREDIT_SLOPE,
        "age_slope": AGE_SLOPE,
        "held_slope": HELD_SLOPE,
        "trigger_events": list(TRIGGER_EVENTS),
        "trigger_categories": list(TRIGGER_CATEGORIES),
        "trigger_factor": TRIGGER_FACTOR,
        "trigger_days": TRIGGER_DAYS,
        "factor_range": list(FACTOR_RANGE),
    }
