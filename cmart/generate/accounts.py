"""What the bank knows about each customer besides the master record: holdings, consents,
contact preferences, complaints, life events and other departments' scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cmart.generate import vocab
from cmart.generate.catalogue import CATEGORIES, Products
from cmart.generate.frame import Frame, rng_for, uniform_times
from cmart.generate.people import UPDATE_KINDS, Customers
from cmart.generate.textfmt import (
    SECONDS_PER_DAY,
    civil_from_days,
    dates,
    days_from_civil,
    digits,
    fixed_to_arrow,
    timestamps,
    vocab_array,
)
from cmart.generate.worldconfig import WorldConfig

NEVER = np.iinfo(np.int64).max // 4
ALWAYS = -NEVER
HALF_YEAR_S = 182 * SECONDS_PER_DAY


def _customer_ids(customers: Customers, rows: np.ndarray) -> pa.Array:
    return fixed_to_arrow(customers.ids[rows])


# --- holdings -----------------------------------------------------------------------------------


@dataclass(eq=False)
class Holdings:
    customer: np.ndarray
    product: np.ndarray
    closed: np.ndarray
    opened_s: np.ndarray
    closed_s: np.ndarray
    active: np.ndarray  # (customers, products) bool: holds it now

    def table(self, customers: Customers, products: Products) -> pa.Table:
        return pa.table(
            {
                "customer_id": _customer_ids(customers, self.customer),
                "product_id": vocab_array(products.ids, self.product),
                "status": vocab_array(("active", "closed"), self.closed.astype(np.int8)),
                "opened_at": timestamps(self.opened_s),
                "closed_at": timestamps(self.closed_s, self.closed),
            }
        )


def make_holdings(cfg: WorldConfig, seed: int, frame: Frame, customers: Customers) -> Holdings:
    """Early path products are held more often, so "offer what they do not hold" matters."""
    rng = rng_for(seed, "holdings")
    position = cfg.path_position.astype(np.float64)
    probability = np.where(position > 0, 0.45 * 0.55 ** (position - 1), 0.03)
    customer_parts, product_parts = [], []
    for product in range(len(cfg.products)):
        held = np.flatnonzero(rng.random(customers.count) < probability[customers.segment, product])
        customer_parts.append(held)
        product_parts.append(np.full(len(held), product, dtype=np.int16))
    customer = np.concatenate(customer_parts)
    product = np.concatenate(product_parts)
    order = np.lexsort((product, customer))
    customer, product = customer[order], product[order]
    closed = rng.random(len(customer)) < 0.12
    opened_s = uniform_times(rng, customers.since_s[customer], frame.start_s, len(customer))
    closed_s = uniform_times(rng, opened_s + 1, frame.start_s, len(customer))
    active = np.zeros((customers.count, len(cfg.products)), dtype=bool)
    active[customer[~closed], product[~closed]] = True
    return Holdings(customer, product, closed, opened_s, closed_s, active)


# --- consents -----------------------------------------------------------------------------------

OPT_IN_RATE = {"email": 0.75, "sms": 0.88, "call_center": 0.6}
LATER_OPT_OUT_RATE = {"email": 0.08, "sms": 0.05, "call_center": 0.06}
TOPIC_OPT_OUT_RATE = 0.06


@dataclass(eq=False)
class ConsentState:
    """When each customer may be contacted on each channel (for the legacy contact history).

    ``window[customer * n_channels + channel]`` holds (allowed from, allowed until, allowed again
    from) as ``int32`` seconds after ``base_s``: one small gather per contact."""

    base_s: int
    window: np.ndarray  # (customers * channels, 3) int32
    n_channels: int
    topic_channel: int
    topic_category: int
    topic_block_from: np.ndarray  # (customers,) int32 seconds after base_s

    @classmethod
    def pack(
        cls,
        base_s: int,
        bounds: tuple[np.ndarray, np.ndarray, np.ndarray],
        topic: tuple[int, int, np.ndarray],
    ) -> ConsentState:
        def relative(values: np.ndarray) -> np.ndarray:
            limits = np.iinfo(np.int32)
            return np.clip(values - base_s, limits.min, limits.max).astype(np.int32)

        n_channels = bounds[0].shape[0]
        window = np.stack([relative(bound).T for bound in bounds], axis=-1).reshape(-1, 3)
        return cls(
            base_s, np.ascontiguousarray(window), n_channels, topic[0], topic[1], relative(topic[2])
        )

    def allows(
        self, channel: np.ndarray, customer: np.ndarray, at_s: np.ndarray, category: np.ndarray
    ) -> np.ndarray:
        at = (at_s - self.base_s).astype(np.int32)
        window = np.take(self.window, customer.astype(np.int64) * self.n_channels + channel, axis=0)
        ok = ((at >= window[:, 0]) & (at < window[:, 1])) | (at >= window[:, 2])
        topical = np.flatnonzero(
            (channel == self.topic_channel) & (category == self.topic_category)
        )
        ok[topical] &= at[topical] < self.topic_block_from[customer[topical]]
        return ok


@dataclass
class _EventLog:
    customer: list[np.ndarray]
    channel: list[np.ndarray]
    status: list[np.ndarray]  # 0 opt_in, 1 opt_out
    recorded_s: list[np.ndarray]
    topic: list[np.ndarray]  # 0 = all, 1 + category index
    source: list[np.ndarray]

    def add(
        self,
        rows: np.ndarray,
        channel: int,
        status: int,
        recorded_s: np.ndarray,
        topic: int,
        source: np.ndarray,
    ) -> None:
        size = len(rows)
        self.customer.append(rows)
        self.channel.append(np.full(size, channel, dtype=np.int16))
        self.status.append(np.full(size, status, dtype=np.int8))
        self.recorded_s.append(np.asarray(recorded_s, dtype=np.int64))
        self.topic.append(np.full(size, topic, dtype=np.int16))
        self.source.append(np.asarray(source, dtype=np.int16))


def _present(cfg: WorldConfig, codes: tuple[str, ...]) -> np.ndarray:
    found = [cfg.channels.index(code) for code in codes if code in cfg.channels]
    return np.array(found or [0], dtype=np.int16)


def _topic_channel(cfg: WorldConfig) -> int:
    """The channel of "no <category> offers on this channel" opt-outs: the call centre, else the
    first channel that needs an opt-in."""
    opt_in = [
        code for code, needed in zip(cfg.channels, cfg.requires_opt_in, strict=True) if needed
    ]
    return int(_present(cfg, ("call_center", *opt_in))[0])


@dataclass(eq=False)
class _ConsentDraw:
    """What every channel's consent events share while they are drawn."""

    rng: np.random.Generator
    onboard_s: np.ndarray  # when each customer's onboarding consents were recorded
    onboard_source: np.ndarray
    later_sources: np.ndarray
    earliest_later_s: np.ndarray
    end_s: int
    log: _EventLog

    @property
    def size(self) -> int:
        return len(self.onboard_s)

    def later_times(self) -> np.ndarray:
        return uniform_times(self.rng, self.earliest_later_s, self.end_s, self.size)

    def later_source(self, channel: int, code: str) -> np.ndarray:
        if code == "email":  # the unsubscribe link
            return np.full(self.size, channel)
        return self.later_sources[self.rng.integers(0, len(self.later_sources), self.size)]


def _opt_in_channel(draw: _ConsentDraw, channel: int, code: str) -> tuple[np.ndarray, ...]:
    """Events of a channel that needs an explicit opt-in; returns its (from, until, again)."""
    rng, size, log = draw.rng, draw.size, draw.log
    everyone = np.arange(size)
    opted_in = rng.random(size) < OPT_IN_RATE.get(code, 0.7)
    explicit_out = ~opted_in & (rng.random(size) < 0.5)  # the others never answered
    for rows, status in ((opted_in, 0), (explicit_out, 1)):
        log.add(everyone[rows], channel, status, draw.onboard_s[rows], 0, draw.onboard_source[rows])
    source = draw.later_source(channel, code)
    later = opted_in & (rng.random(size) < LATER_OPT_OUT_RATE.get(code, 0.05))
    out_s = draw.later_times()
    log.add(everyone[later], channel, 1, out_s[later], 0, source[later])
    again_s = uniform_times(rng, out_s + 1, draw.end_s, size)
    again = later & (rng.random(size) < 0.2) & (again_s < draw.end_s)
    log.add(everyone[again], channel, 0, again_s[again], 0, source[again])
    return (
        np.where(opted_in, draw.onboard_s, NEVER),
        np.where(later, out_s, NEVER),
        np.where(again, again_s, NEVER),
    )


def _opt_out_channel(draw: _ConsentDraw, channel: int, code: str) -> tuple[np.ndarray, ...]:
    """Events of a channel allowed unless opted out; returns its (from, until, again)."""
    rng, size, log = draw.rng, draw.size, draw.log
    everyone = np.arange(size)
    at_onboarding = rng.random(size) < 0.03
    log.add(
        everyone[at_onboarding],
        channel,
        1,
        draw.onboard_s[at_onboarding],
        0,
        draw.onboard_source[at_onboarding],
    )
    source = draw.later_source(channel, code)
    later = ~at_onboarding & (rng.random(size) < 0.01)
    out_s = draw.later_times()
    log.add(everyone[later], channel, 1, out_s[later], 0, source[later])
    until = np.where(at_onboarding, draw.onboard_s, np.where(later, out_s, NEVER))
    return np.full(size, ALWAYS), until, np.full(size, NEVER)


def make_consents(
    cfg: WorldConfig, seed: int, frame: Frame, customers: Customers, products: Products
) -> tuple[pa.Table, ConsentState]:
    """The consent event log and, for the contact history, when each channel was allowed.

    Onboarding opt-ins (or not) per channel, later opt-outs and a few re-opt-ins, opt-outs of
    channels that need no opt-in, and topic opt-outs ("no credit offers by phone")."""
    rng = rng_for(seed, "consents")
    size = customers.count
    onboard_s = customers.since_s + rng.integers(0, 3_600, size)
    onboarding_sources = _present(cfg, ("branch", "internet", "mobile"))
    draw = _ConsentDraw(
        rng=rng,
        onboard_s=onboard_s,
        onboard_source=onboarding_sources[rng.integers(0, len(onboarding_sources), size)],
        later_sources=_present(cfg, ("call_center", "internet", "mobile", "branch")),
        earliest_later_s=np.maximum(onboard_s + 1, frame.start_s - HALF_YEAR_S),
        end_s=frame.end_s,
        log=_EventLog([], [], [], [], [], []),
    )
    bounds = [
        (_opt_in_channel if cfg.requires_opt_in[channel] else _opt_out_channel)(draw, channel, code)
        for channel, code in enumerate(cfg.channels)
    ]
    topic_channel = _topic_channel(cfg)
    categories = [CATEGORIES[c] for c in products.category]
    topic_category = CATEGORIES.index("credit" if "credit" in categories else categories[0])
    topic_out = np.flatnonzero(rng.random(size) < TOPIC_OPT_OUT_RATE)
    topic_s = uniform_times(rng, onboard_s + 1, frame.end_s, size)
    topic_source = draw.later_sources[rng.integers(0, len(draw.later_sources), len(topic_out))]
    draw.log.add(topic_out, topic_channel, 1, topic_s[topic_out], 1 + topic_category, topic_source)
    blocked_from = np.full(size, NEVER)
    blocked_from[topic_out] = topic_s[topic_out]
    state = ConsentState.pack(
        frame.start_s,
        tuple(np.stack([bound[i] for bound in bounds]) for i in range(3)),
        (topic_channel, topic_category, blocked_from),
    )
    return _consent_table(rng, cfg, customers, draw.log), state


def _consent_table(
    rng: np.random.Generator, cfg: WorldConfig, customers: Customers, log: _EventLog
) -> pa.Table:
    customer = np.concatenate(log.customer)
    recorded_s = np.concatenate(log.recorded_s)
    order = np.lexsort((np.concatenate(log.channel), recorded_s, customer))
    topic = np.concatenate(log.topic)[order]
    topic_valid = (topic > 0) | (rng.random(len(topic)) >= 0.15)  # empty topic = all
    return pa.table(
        {
            "customer_id": _customer_ids(customers, customer[order]),
            "channel": vocab_array(cfg.channels, np.concatenate(log.channel)[order]),
            "status": vocab_array(("opt_in", "opt_out"), np.concatenate(log.status)[order]),
            "recorded_at": timestamps(recorded_s[order]),
            "topic": vocab_array(("all", *CATEGORIES), topic, topic_valid),
            "source_channel": vocab_array(cfg.channels, np.concatenate(log.source)[order]),
        }
    )


# --- preferences --------------------------------------------------------------------------------

PREFERENCE_KEYS = ("email_for_detailed", "email_for_short", "mail_to")
WORK_SHARE = (0.3, 0.5, 0.15)


def preferences_table(seed: int, frame: Frame, customers: Customers) -> pa.Table:
    rng = rng_for(seed, "preferences")
    size = customers.count
    onboard_s = customers.since_s + 3_600
    customer_parts, key_parts, value_parts, time_parts = [], [], [], []
    values = np.zeros((len(PREFERENCE_KEYS), size), dtype=np.int8)
    for key, share in enumerate(WORK_SHARE):
        values[key] = customers.has_work & (rng.random(size) < share)
        customer_parts.append(np.arange(size))
        key_parts.append(np.full(size, key, dtype=np.int8))
        value_parts.append(values[key])
        time_parts.append(onboard_s + key)
    changed = np.flatnonzero(customers.has_work & (rng.random(size) < 0.05))
    changed_key = rng.integers(0, len(PREFERENCE_KEYS), len(changed))
    customer_parts.append(changed)
    key_parts.append(changed_key.astype(np.int8))
    value_parts.append(1 - values[changed_key, changed])
    time_parts.append(uniform_times(rng, frame.start_s, frame.end_s, len(changed)))
    customer = np.concatenate(customer_parts)
    recorded_s = np.concatenate(time_parts)
    order = np.lexsort((recorded_s, customer))
    return pa.table(
        {
            "customer_id": _customer_ids(customers, customer[order]),
            "key": vocab_array(PREFERENCE_KEYS, np.concatenate(key_parts)[order]),
            "value": vocab_array(("home", "work"), np.concatenate(value_parts)[order]),
            "recorded_at": timestamps(recorded_s[order]),
        }
    )


# --- complaints ---------------------------------------------------------------------------------


@dataclass(eq=False)
class Complaints:
    customer: np.ndarray
    opened_s: np.ndarray
    closed_s: np.ndarray
    is_open: np.ndarray


def make_complaints(seed: int, frame: Frame, customers: Customers) -> Complaints:
    rng = rng_for(seed, "complaints")
    customer = np.flatnonzero(rng.random(customers.count) < 0.02)
    size = len(customer)
    opened_s = uniform_times(rng, frame.start_s - 60 * SECONDS_PER_DAY, frame.end_s, size)
    lag = (rng.exponential(10.0, size) * SECONDS_PER_DAY).astype(np.int64) + 3_600
    closed_s = opened_s + lag
    is_open = (rng.random(size) < 0.3) | (closed_s >= frame.end_s)
    order = np.argsort(opened_s, kind="stable")
    return Complaints(customer[order], opened_s[order], closed_s[order], is_open[order])


def complaints_table(
    cfg: WorldConfig, seed: int, complaints: Complaints, customers: Customers
) -> pa.Table:
    rng = rng_for(seed, "complaint_rows")
    size = len(complaints.customer)
    channels = _present(cfg, ("branch", "call_center", "email", "internet", "mobile"))
    return pa.table(
        {
            "complaint_id": fixed_to_arrow(digits("CP#######", np.arange(1, size + 1))),
            "customer_id": _customer_ids(customers, complaints.customer),
            "opened_at": timestamps(complaints.opened_s),
            "closed_at": timestamps(complaints.closed_s, ~complaints.is_open),
            "category": vocab_array(
                vocab.COMPLAINT_CATEGORIES,
                rng.integers(0, len(vocab.COMPLAINT_CATEGORIES), size),
                dictionary=False,
            ),
            "channel": vocab_array(
                cfg.channels, channels[rng.integers(0, len(channels), size)], dictionary=False
            ),
        }
    )


# --- life events --------------------------------------------------------------------------------


@dataclass(eq=False)
class LifeEvents:
    """Life events by customer: ``customer`` (row), ``event`` (index into vocab.LIFE_EVENTS) and
    ``day``, ordered by customer then day."""

    customer: np.ndarray
    event: np.ndarray
    day: np.ndarray


def make_life_events(cfg: WorldConfig, seed: int, frame: Frame, customers: Customers) -> LifeEvents:
    """Events behind the customer updates (moved, married, new job) plus others of the last year."""
    rng = rng_for(seed, "life_events")
    size = customers.count
    age = customers.age
    occupation = customers.demographics.occupation
    retired = cfg.occupations.index("retired")
    employed = np.isin(occupation, [cfg.occupations.index(o) for o in vocab.EMPLOYED])
    update_event = np.array(
        [vocab.LIFE_EVENTS.index(e) for e in ("moved", "marriage", "marriage", "new_job")]
    )
    from_update = customers.updated & (customers.update_kind != UPDATE_KINDS.index("new_email"))
    others = ~customers.updated
    chances = {
        "child": others & (age >= 25) & (age <= 42) & (rng.random(size) < 0.04),
        "retirement": others
        & (age >= 60)
        & (age <= 67)
        & (occupation == retired)
        & (rng.random(size) < 0.3),
        "moved": others & (rng.random(size) < 0.02),
        "new_job": others & employed & (rng.random(size) < 0.02),
        "marriage": others & (age >= 22) & (age <= 45) & (rng.random(size) < 0.01),
    }
    customer_parts = [np.flatnonzero(from_update)]
    event_parts = [update_event[customers.update_kind[from_update]]]
    day_parts = [customers.update_s[from_update] // SECONDS_PER_DAY]
    for name, chosen in chances.items():
        rows = np.flatnonzero(chosen)
        customer_parts.append(rows)
        event_parts.append(np.full(len(rows), vocab.LIFE_EVENTS.index(name)))
        day_parts.append(rng.integers(frame.end_day - 365, frame.end_day, len(rows)))
    customer = np.concatenate(customer_parts)
    event_day = np.concatenate(day_parts)
    order = np.lexsort((event_day, customer))
    return LifeEvents(customer[order], np.concatenate(event_parts)[order], event_day[order])


def life_events_table(customers: Customers, events: LifeEvents) -> pa.Table:
    return pa.table(
        {
            "customer_id": _customer_ids(customers, events.customer),
            "event_type": vocab_array(vocab.LIFE_EVENTS, events.event, dictionary=False),
            "event_date": dates(events.day),
        }
    )


# --- scores -------------------------------------------------------------------------------------


def digital_affinity(seed: int, customers: Customers) -> np.ndarray:
    """The planted, true digital affinity of each customer (younger = more digital)."""
    rng = rng_for(seed, "digital_affinity")
    youth = np.clip(1.0 - (customers.age.astype(float) - 18.0) / 60.0, 0.0, 1.0)
    return np.clip(youth + rng.normal(0.0, 0.15, customers.count), 0.0, 1.0)


def score_days(frame: Frame) -> np.ndarray:
    """First day of every month inside the history (or its first day if there is none)."""
    year, month, _ = civil_from_days(np.arange(frame.start_day, frame.end_day))
    firsts = np.unique(days_from_civil(year, month, np.ones_like(month)))
    inside = firsts[(firsts >= frame.start_day) & (firsts < frame.end_day)]
    return inside if len(inside) else np.array([frame.start_day])


def credit_base(seed: int, customers: Customers) -> np.ndarray:
    """The planted, true credit score of each customer (higher income, higher score)."""
    rng = rng_for(seed, "credit_score")
    income = customers.demographics.income.astype(float)
    return rng.normal(620.0, 60.0, customers.count) + 30.0 * income


def scores_table(
    seed: int,
    frame: Frame,
    customers: Customers,
    complaints: Complaints,
    affinity: np.ndarray,
    credit: np.ndarray,
) -> pa.Table:
    rng = rng_for(seed, "scores")
    size = customers.count
    has_complaint = np.zeros(size, dtype=bool)
    has_complaint[complaints.customer] = True
    churn_base = 0.15 + 0.25 * has_complaint + rng.normal(0.0, 0.05, size)
    months = score_days(frame)
    customer_parts, name_parts, value_parts, time_parts = [], [], [], []
    for day in months:
        month_values = (
            np.clip(churn_base + rng.normal(0.0, 0.03, size), 0.0, 1.0).round(4),
            np.clip(credit + rng.normal(0.0, 10.0, size), 300.0, 850.0).round(0),
            np.clip(affinity + rng.normal(0.0, 0.05, size), 0.0, 1.0).round(4),
        )
        for name, values in enumerate(month_values):
            customer_parts.append(np.arange(size))
            name_parts.append(np.full(size, name, dtype=np.int8))
            value_parts.append(values)
            time_parts.append(np.full(size, day * SECONDS_PER_DAY + 2 * 3_600, dtype=np.int64))
    return pa.table(
        {
            "customer_id": _customer_ids(customers, np.concatenate(customer_parts)),
            "score_name": vocab_array(vocab.SCORES, np.concatenate(name_parts)),
            "score_value": pa.array(np.concatenate(value_parts), pa.float64()),
            "scored_at": timestamps(np.concatenate(time_parts)),
        }
    )
