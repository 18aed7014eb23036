"""Products, campaigns and offers.

Products are exactly the product ids the configured paths use. Campaigns are spread over the
history: past ones, a few running on ``end_date`` (whose offers cover every product and stay valid
after it) and one starting after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cmart.generate import vocab
from cmart.generate.frame import Frame, date_of, rng_for
from cmart.generate.textfmt import dates, digits, fixed_to_arrow, id_template, vocab_array
from cmart.generate.worldconfig import WorldConfig

CATEGORIES = ("credit", "card", "deposit", "insurance", "investment", "other")
FULFILMENT = {"card": "credit_limit_increase", "deposit": "tariff_change"}
LOW_PERFORMER_MULTIPLIER = 0.25  # the planted low performer's effect on its treated hard rate


@dataclass(frozen=True, eq=False)
class Products:
    ids: tuple[str, ...]
    names: tuple[str, ...]
    category: np.ndarray  # index into CATEGORIES
    premium: np.ndarray  # bool
    value: np.ndarray

    def category_of(self, product: int) -> str:
        return CATEGORIES[int(self.category[product])]


def _describe(product_id: str, rng: np.random.Generator) -> tuple[str, str, str, float]:
    if product_id in vocab.KNOWN_PRODUCTS:
        return vocab.KNOWN_PRODUCTS[product_id]
    lowered = product_id.lower()
    category = next((cat for word, cat in vocab.CATEGORY_KEYWORDS if word in lowered), "other")
    premium = any(word in lowered for word in vocab.PREMIUM_KEYWORDS)
    value = float(round(rng.uniform(500, 3_000) if premium else rng.uniform(30, 400)))
    name = product_id.replace("_", " ").capitalize()
    return name, category, "premium" if premium else "mass", value


def make_products(cfg: WorldConfig, seed: int) -> Products:
    rng = rng_for(seed, "products")
    described = [_describe(product_id, rng) for product_id in cfg.products]
    return Products(
        ids=cfg.products,
        names=tuple(name for name, _, _, _ in described),
        category=np.array([CATEGORIES.index(cat) for _, cat, _, _ in described], dtype=np.int8),
        premium=np.array([tier == "premium" for _, _, tier, _ in described], dtype=bool),
        value=np.array([value for _, _, _, value in described]),
    )


def products_table(products: Products) -> pa.Table:
    return pa.table(
        {
            "product_id": pa.array(products.ids, pa.string()),
            "product_name": pa.array(products.names, pa.string()),
            "category": vocab_array(CATEGORIES, products.category, dictionary=False),
            "tier": vocab_array(
                ("mass", "premium"), products.premium.astype(np.int8), dictionary=False
            ),
            "value": pa.array(products.value, pa.float64()),
        }
    )


@dataclass(frozen=True, eq=False)
class Campaigns:
    ids: tuple[str, ...]
    names: tuple[str, ...]
    objective: np.ndarray
    owner: np.ndarray
    start_day: np.ndarray
    end_day: np.ndarray  # inclusive
    active_at_end: np.ndarray  # bool: running on end_date


@dataclass(frozen=True, eq=False)
class Offers:
    ids: np.ndarray  # S
    campaign: np.ndarray
    product: np.ndarray
    names: tuple[str, ...]
    channels: np.ndarray  # (offers, channels) bool
    valid_from_day: np.ndarray
    valid_to_day: np.ndarray  # inclusive
    control_rate: np.ndarray
    has_b: np.ndarray  # bool: cells A|B
    b_multiplier: np.ndarray  # planted effect of cell B on the hard-response rate
    fulfilment: tuple[str | None, ...]
    # planted effect of the offer itself (its creative) on the hard-response rate of treated
    # contacts: 1.0 except for the one planted low performer
    hard_multiplier: np.ndarray

    @property
    def count(self) -> int:
        return len(self.ids)


def make_campaigns(seed: int, frame: Frame, n_products: int) -> Campaigns:
    rng = rng_for(seed, "campaigns")
    total = int(np.clip(round(frame.days / 8), 8, 15))
    n_active = min(max(4, math.ceil(n_products / 3)), total - 2)
    n_past = total - n_active - 1
    end = frame.end_day
    past_start = rng.integers(frame.start_day - 30, max(frame.start_day - 29, end - 25), n_past)
    past_end = np.minimum(past_start + rng.integers(21, 61, n_past), end - 1)
    active_start = rng.integers(end - max(5, min(frame.days, 60)), end - 4, n_active)
    active_end = end + rng.integers(7, 46, n_active)
    future_start = end + rng.integers(3, 11, 1)
    future_end = future_start + rng.integers(30, 46, 1)
    start = np.concatenate([past_start, active_start, future_start])
    finish = np.concatenate([past_end, active_end, future_end])
    active = np.repeat([False, True, False], [n_past, n_active, 1])
    order = np.argsort(start, kind="stable")
    start, finish, active = start[order], finish[order], active[order]
    objective = rng.integers(0, len(vocab.OBJECTIVES), total)
    names = tuple(
        f"{vocab.SEASONS[(date_of(s).month % 12) // 3]} "
        f"{vocab.OBJECTIVES[o].replace('_', '-')} {date_of(s).year} #{i + 1}"
        for i, (s, o) in enumerate(zip(start, objective, strict=True))
    )
    return Campaigns(
        ids=tuple(f"CMP{i + 1:03d}" for i in range(total)),
        names=names,
        objective=objective,
        owner=rng.integers(0, len(vocab.OWNERS), total),
        start_day=start,
        end_day=finish,
        active_at_end=active,
    )


def campaigns_table(campaigns: Campaigns) -> pa.Table:
    return pa.table(
        {
            "campaign_id": pa.array(campaigns.ids, pa.string()),
            "campaign_name": pa.array(campaigns.names, pa.string()),
            "objective": vocab_array(vocab.OBJECTIVES, campaigns.objective, dictionary=False),
            "start_date": dates(campaigns.start_day),
            "end_date": dates(campaigns.end_day),
            "owner": vocab_array(vocab.OWNERS, campaigns.owner, dictionary=False),
        }
    )


def make_offers(
    cfg: WorldConfig, seed: int, campaigns: Campaigns, products: Products, frame: Frame
) -> Offers:
    rng = rng_for(seed, "offers")
    per_campaign = np.where(campaigns.active_at_end, 3, rng.integers(1, 4, len(campaigns.ids)))
    campaign = np.repeat(np.arange(len(campaigns.ids)), per_campaign)
    count = len(campaign)
    active = campaigns.active_at_end[campaign]
    n_products = len(products.ids)
    product = rng.integers(0, n_products, count)
    cover = np.resize(rng.permutation(n_products), int(active.sum()))
    product[active] = cover
    n_channels = len(cfg.channels)
    channels = np.zeros((count, n_channels), dtype=bool)
    for offer in range(count):
        size = int(rng.integers(3, min(6, n_channels) + 1)) if n_channels > 3 else n_channels
        channels[offer, rng.permutation(n_channels)[:size]] = True
        channels[offer, offer % n_channels] = True
    c_start = campaigns.start_day[campaign]
    c_end = campaigns.end_day[campaign]
    valid_from = np.minimum(c_start + rng.integers(0, 4, count), c_end)
    valid_to = np.maximum(c_end - rng.integers(0, 4, count), valid_from)
    valid_from[active] = np.minimum(valid_from[active], frame.end_day - 1)
    valid_to[active] = np.maximum(valid_to[active], frame.end_day + 1)
    has_b = rng.random(count) < 0.4
    b_multiplier = np.where(has_b, rng.choice([1.5, 1.3, 1.0, 0.8], count), 1.0)
    fulfil = rng.random(count) < 0.6
    fulfilment = tuple(
        FULFILMENT.get(products.category_of(p)) if f else None
        for p, f in zip(product, fulfil, strict=True)
    )
    names = tuple(
        f"{products.names[p]} - {campaigns.names[c]}"
        for p, c in zip(product, campaign, strict=True)
    )
    return Offers(
        ids=digits(id_template("OF", count, 4), np.arange(1, count + 1)),
        campaign=campaign,
        product=product,
        names=names,
        channels=channels,
        valid_from_day=valid_from,
        valid_to_day=valid_to,
        control_rate=np.round(rng.uniform(0.05, 0.2, count), 2),
        has_b=has_b,
        b_multiplier=b_multiplier,
        fulfilment=fulfilment,
        hard_multiplier=_low_performer(campaigns.active_at_end[campaign], has_b, valid_from),
    )


def _low_performer(active: np.ndarray, has_b: np.ndarray, valid_from: np.ndarray) -> np.ndarray:
    """The planted low performer, chosen without drawing random numbers (the other outputs stay
    as they were): the single-cell offer of a running campaign that has been valid the longest,
    so that it has the most contacts. Its treated contacts accept at LOW_PERFORMER_MULTIPLIER
    times the planted rate, below its own control group's organic rate."""
    multiplier = np.ones(len(active))
    candidates = np.flatnonzero(active & ~has_b)
    if len(candidates) == 0:
        candidates = np.flatnonzero(active)
    if len(candidates):
        chosen = candidates[np.argmin(valid_from[candidates])]  # first of ties
        multiplier[chosen] = LOW_PERFORMER_MULTIPLIER
    return multiplier


def offers_table(
    cfg: WorldConfig, offers: Offers, campaigns: Campaigns, products: Products
) -> pa.Table:
    channel_lists = [
        "|".join(code for code, on in zip(cfg.channels, row, strict=True) if on)
        for row in offers.channels
    ]
    return pa.table(
        {
            "offer_id": fixed_to_arrow(offers.ids),
            "campaign_id": pa.array([campaigns.ids[c] for c in offers.campaign], pa.string()),
            "product_id": pa.array([products.ids[p] for p in offers.product], pa.string()),
            "offer_name": pa.array(offers.names, pa.string()),
            "channels": pa.array(channel_lists, pa.string()),
            "valid_from": dates(offers.valid_from_day),
            "valid_to": dates(offers.valid_to_day),
            "control_rate": pa.array(offers.control_rate, pa.float64()),
            "cells": pa.array(["A|B" if b else "A" for b in offers.has_b], pa.string()),
            "fulfilment_action": pa.array(list(offers.fulfilment), pa.string()),
        }
    )


def offer_truth_table(offers: Offers, campaigns: Campaigns, products: Products) -> pa.Table:
    return pa.table(
        {
            "offer_id": fixed_to_arrow(offers.ids),
            "campaign_id": pa.array([campaigns.ids[c] for c in offers.campaign], pa.string()),
            "product_id": pa.array([products.ids[p] for p in offers.product], pa.string()),
            "category": pa.array([products.category_of(p) for p in offers.product], pa.string()),
            "cells": pa.array(["A|B" if b else "A" for b in offers.has_b], pa.string()),
            "cell_b_multiplier": pa.array(offers.b_multiplier, pa.float64()),
            "hard_rate_multiplier": pa.array(offers.hard_multiplier, pa.float64()),
            "is_low_performer": pa.array(offers.hard_multiplier < 1.0),
            "control_rate": pa.array(offers.control_rate, pa.float64()),
            "valid_from": dates(offers.valid_from_day),
            "valid_to": dates(offers.valid_to_day),
        }
    )
