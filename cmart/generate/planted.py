"""The planted truth of customer behaviour, and responses drawn from it.

Acceptance depends on (segment, product, channel): a segment-level product affinity along the
segment's path times a segment-specific channel affinity (young segments prefer digital channels,
older ones assisted and paper channels, each with a favourite). So the best offer and the best
channel differ by segment, and a model that learns from the responses can find them.

Treated contacts respond (soft funnel, hard, negative) with the planted probabilities, times the
customer's acceptance factor (:mod:`acceptance`: hard times the factor, soft times its square
root) and the offer's cell-B multiplier for cell B. Control contacts are never delivered: they
only convert organically, at ``organic_ratio`` times the segment's planted hard rate (the
customer's factor is what a contact persuades, so it does not move organic purchases), without a
contact reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cmart.generate import vocab
from cmart.generate.frame import rng_for
from cmart.generate.textfmt import SECONDS_PER_DAY
from cmart.generate.worldconfig import WorldConfig

BASE_HARD = 0.03
BASE_SOFT = 0.10
BASE_NEGATIVE = 0.012
ORGANIC_RATIO = 0.4
CONTACT_ID_SHARE = 0.85  # responses that carry the contact_id they answer
CROSS_CHANNEL_SHARE = 0.15  # hard responses given on a self-service channel instead
MAX_LAG_S = 21 * SECONDS_PER_DAY
SELF_SERVICE = ("internet", "mobile", "branch")


@dataclass(frozen=True, eq=False)
class Planted:
    segments: tuple[str, ...]
    products: tuple[str, ...]
    channels: tuple[str, ...]
    p_hard: np.ndarray  # (segments, products, channels)
    p_soft: np.ndarray
    p_negative: np.ndarray
    soft_types: tuple[str, ...]  # by funnel step
    hard_types: tuple[str, ...]
    negative_types: tuple[str, ...]
    organic_ratio: float = ORGANIC_RATIO

    @property
    def response_types(self) -> tuple[str, ...]:
        return self.soft_types + self.hard_types + self.negative_types

    @property
    def self_service(self) -> np.ndarray:
        found = [self.channels.index(c) for c in SELF_SERVICE if c in self.channels]
        return np.array(found, dtype=np.int16)

    def vocabulary(self) -> dict[str, list[str]]:
        return {
            "soft_types": list(self.soft_types),
            "hard_types": list(self.hard_types),
            "negative_types": list(self.negative_types),
        }


def _youth(cfg: WorldConfig) -> np.ndarray:
    middle = np.array([(s.age_min + min(s.age_max, 90)) / 2 for s in cfg.segments])
    return np.clip(1.0 - (middle - 20.0) / 55.0, 0.0, 1.0)


def plant(cfg: WorldConfig, seed: int) -> Planted:
    rng = rng_for(seed, "planted")
    n_segments, n_channels = len(cfg.segments), len(cfg.channels)
    digital = np.array([vocab.CHANNEL_DIGITAL.get(code, 0.5) for code in cfg.channels])
    channel_affinity = np.exp(6.0 * np.outer(_youth(cfg) - 0.5, digital - 0.5))
    channel_affinity *= rng.lognormal(0.0, 0.25, (n_segments, n_channels))
    favourite = rng.integers(0, n_channels, n_segments)
    channel_affinity[np.arange(n_segments), favourite] *= 1.6
    channel_affinity /= channel_affinity.mean(axis=1, keepdims=True)
    position = cfg.path_position.astype(np.float64)
    product_affinity = np.where(
        position > 0, 1.4 ** -(position - 1) * rng.lognormal(0.0, 0.5, position.shape), 0.0
    )
    best = product_affinity.max(axis=1, keepdims=True)
    product_affinity = np.where(position > 0, product_affinity / np.maximum(best, 1e-9), 0.05)
    soft_channel = np.array([vocab.CHANNEL_SOFT.get(code, 1.0) for code in cfg.channels])
    soft_channel /= soft_channel.mean()
    negative_channel = np.array(
        [1.5 if code in ("call_center", "sms", "email") else 1.0 for code in cfg.channels]
    )
    p_hard = BASE_HARD * product_affinity[:, :, None] * channel_affinity[:, None, :]
    p_soft = (
        BASE_SOFT
        * soft_channel[None, None, :]
        * (0.6 + 0.4 * product_affinity[:, :, None])
        * np.sqrt(channel_affinity[:, None, :])
    )
    p_negative = (
        BASE_NEGATIVE * negative_channel[None, None, :] * (1.2 - 0.4 * product_affinity)[:, :, None]
    )
    return Planted(
        segments=tuple(s.code for s in cfg.segments),
        products=cfg.products,
        channels=cfg.channels,
        p_hard=np.clip(p_hard, 0.0, 0.4).round(6),
        p_soft=np.clip(p_soft, 0.0, 0.4).round(6),
        p_negative=np.clip(p_negative, 0.0, 0.1).round(6),
        soft_types=cfg.soft_types,
        hard_types=cfg.hard_types,
        negative_types=cfg.negative_types,
    )


def acceptance_table(planted: Planted, on_path: np.ndarray) -> pa.Table:
    """One row per (segment, product, channel): the planted per-contact probabilities."""
    n_segments, n_products, n_channels = planted.p_hard.shape
    grid = np.indices((n_segments, n_products, n_channels)).reshape(3, -1)
    return pa.table(
        {
            "segment_code": pa.array(
                np.array(planted.segments, dtype=object)[grid[0]], pa.string()
            ),
            "product_id": pa.array(np.array(planted.products, dtype=object)[grid[1]], pa.string()),
            "channel": pa.array(np.array(planted.channels, dtype=object)[grid[2]], pa.string()),
            "on_path": pa.array(on_path[grid[0], grid[1]]),
            "p_hard": pa.array(planted.p_hard.ravel()),
            "p_soft": pa.array(planted.p_soft.ravel()),
            "p_negative": pa.array(planted.p_negative.ravel()),
        }
    )


def planted_from_truth(
    table: pa.Table, vocabulary: dict[str, list[str]], organic_ratio: float
) -> Planted:
    """Rebuild :class:`Planted` from ``acceptance_rates.csv`` and ``world.json``."""
    columns = {
        name: table.column(name).to_pylist() for name in ("segment_code", "product_id", "channel")
    }
    segments = tuple(dict.fromkeys(columns["segment_code"]))
    products = tuple(dict.fromkeys(columns["product_id"]))
    channels = tuple(dict.fromkeys(columns["channel"]))
    index = (
        np.array([segments.index(v) for v in columns["segment_code"]]),
        np.array([products.index(v) for v in columns["product_id"]]),
        np.array([channels.index(v) for v in columns["channel"]]),
    )
    shape = (len(segments), len(products), len(channels))

    def cube(name: str) -> np.ndarray:
        values = np.zeros(shape)
        values[index] = table.column(name).to_numpy()
        return values

    return Planted(
        segments=segments,
        products=products,
        channels=channels,
        p_hard=cube("p_hard"),
        p_soft=cube("p_soft"),
        p_negative=cube("p_negative"),
        soft_types=tuple(vocabulary["soft_types"]),
        hard_types=tuple(vocabulary["hard_types"]),
        negative_types=tuple(vocabulary["negative_types"]),
        organic_ratio=organic_ratio,
    )


@dataclass(eq=False)
class ContactsIn:
    """Contacts to respond to, as indexes into the planted vocabularies."""

    segment: np.ndarray
    product: np.ndarray
    channel: np.ndarray
    cell_multiplier: np.ndarray
    is_control: np.ndarray
    contacted_s: np.ndarray
    factor: np.ndarray | None = None  # customer-level acceptance factor (acceptance.py)

    def acceptance_factor(self) -> np.ndarray:
        return np.ones(len(self.segment)) if self.factor is None else self.factor

    def expected_hard(self, planted: Planted) -> np.ndarray:
        """Planted hard-response probability per contact (organic for controls)."""
        base = planted.p_hard[self.segment, self.product, self.channel]
        return np.where(
            self.is_control,
            base * planted.organic_ratio,
            np.minimum(base * self.acceptance_factor() * self.cell_multiplier, 0.9),
        )


@dataclass(eq=False)
class Drawn:
    """Responses drawn for contacts, sorted by ``responded_s``."""

    contact: np.ndarray  # row in ContactsIn
    response_type: np.ndarray  # index into Planted.response_types
    channel: np.ndarray  # index into Planted.channels
    responded_s: np.ndarray
    has_contact_id: np.ndarray
    same_channel: np.ndarray  # answered on the contact's channel: copy its rep and branch

    @property
    def count(self) -> int:
        return len(self.contact)


def _lags(rng: np.random.Generator, mean_days: float, size: int) -> np.ndarray:
    days = np.minimum(rng.exponential(mean_days, size), MAX_LAG_S / SECONDS_PER_DAY)
    return 60 + (days * (SECONDS_PER_DAY - 1)).astype(np.int64)


def _pick(
    rng: np.random.Generator, first: int, count: int, size: int, decay: float = 1.0
) -> np.ndarray:
    weights = decay ** np.arange(count)
    return first + rng.choice(count, size=size, p=weights / weights.sum())


def _other_channel(
    rng: np.random.Generator, planted: Planted, channel: np.ndarray, share: float
) -> np.ndarray:
    """The contact's channel, or (with probability ``share``) a self-service channel."""
    self_service = planted.self_service
    if len(self_service) == 0:
        return channel
    moved = rng.random(len(channel)) < share
    return np.where(moved, self_service[rng.integers(0, len(self_service), len(channel))], channel)


@dataclass
class _Rows:
    contact: list[np.ndarray]
    response_type: list[np.ndarray]
    responded_s: list[np.ndarray]
    channel: list[np.ndarray]
    linked: list[np.ndarray]

    def add(
        self,
        contacts: ContactsIn,
        rows: np.ndarray,
        response_type: np.ndarray,
        lag_s: np.ndarray,
        channel: np.ndarray,
        linked: np.ndarray,
    ) -> None:
        self.contact.append(rows)
        self.response_type.append(np.asarray(response_type, dtype=np.int16))
        self.responded_s.append(contacts.contacted_s[rows] + lag_s)
        self.channel.append(np.asarray(channel, dtype=np.int16))
        self.linked.append(linked)


def draw_responses(
    seed: int, stream: str, planted: Planted, contacts: ContactsIn, cutoff_s: int
) -> Drawn:
    """Draw the responses to ``contacts``; only those before ``cutoff_s`` are kept."""
    rng = rng_for(seed, stream)
    size = len(contacts.segment)
    key = (contacts.segment, contacts.product, contacts.channel)
    factor = contacts.acceptance_factor()
    p_hard = planted.p_hard[key]
    treated_hard = np.minimum(p_hard * factor * contacts.cell_multiplier, 0.9)
    p_negative = planted.p_negative[key]
    draw = rng.random(size)
    treated = ~contacts.is_control
    hard = treated & (draw < treated_hard)
    negative = treated & ~hard & (draw < treated_hard + p_negative)
    p_soft = np.minimum(planted.p_soft[key] * np.sqrt(factor), 0.6)
    soft = treated & ~hard & ~negative & (draw < treated_hard + p_negative + p_soft)
    organic = contacts.is_control & (draw < p_hard * planted.organic_ratio)
    n_soft, n_hard = len(planted.soft_types), len(planted.hard_types)
    out = _Rows([], [], [], [], [])

    rows = np.flatnonzero(soft)
    linked = rng.random(len(rows)) < CONTACT_ID_SHARE
    types = _pick(rng, 0, n_soft, len(rows), 0.7)
    out.add(contacts, rows, types, _lags(rng, 1.0, len(rows)), contacts.channel[rows], linked)

    rows = np.flatnonzero(hard)
    lag = _lags(rng, 5.0, len(rows))
    linked = rng.random(len(rows)) < CONTACT_ID_SHARE
    channel = _other_channel(rng, planted, contacts.channel[rows], CROSS_CHANNEL_SHARE)
    out.add(contacts, rows, _pick(rng, n_soft, n_hard, len(rows)), lag, channel, linked)
    # Half of the hard responses follow the deepest soft step (e.g. interested -> applied).
    pre = rng.random(len(rows)) < 0.5
    pre_lag = (lag[pre] * rng.random(int(pre.sum()))).astype(np.int64)
    pre_type = np.full(int(pre.sum()), n_soft - 1)
    out.add(contacts, rows[pre], pre_type, pre_lag, contacts.channel[rows[pre]], linked[pre])

    if planted.negative_types:
        rows = np.flatnonzero(negative)
        linked = rng.random(len(rows)) < CONTACT_ID_SHARE
        types = _pick(rng, n_soft + n_hard, len(planted.negative_types), len(rows))
        out.add(contacts, rows, types, _lags(rng, 1.5, len(rows)), contacts.channel[rows], linked)

    rows = np.flatnonzero(organic)
    lag = (rng.random(len(rows)) * MAX_LAG_S).astype(np.int64)
    channel = _other_channel(rng, planted, contacts.channel[rows], 1.0)
    unlinked = np.zeros(len(rows), dtype=bool)
    out.add(contacts, rows, _pick(rng, n_soft, n_hard, len(rows)), lag, channel, unlinked)

    contact = np.concatenate(out.contact)
    responded_s = np.concatenate(out.responded_s)
    kept = np.flatnonzero(responded_s < cutoff_s)
    pick = kept[stable_time_order(responded_s[kept])]
    contact = contact[pick]
    channel = np.concatenate(out.channel)[pick]
    same = (channel == contacts.channel[contact]) & ~contacts.is_control[contact]
    return Drawn(
        contact=contact,
        response_type=np.concatenate(out.response_type)[pick],
        channel=channel,
        responded_s=responded_s[pick],
        has_contact_id=np.concatenate(out.linked)[pick],
        same_channel=same,
    )


def stable_time_order(seconds: np.ndarray) -> np.ndarray:
    """Order by time, ties by position: a plain sort of unique (time, position) keys."""
    size = len(seconds)
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    bits = max(1, int(size - 1).bit_length())
    shifted = np.asarray(seconds, dtype=np.int64) - int(np.min(seconds))
    if int(shifted.max()) >= 1 << (62 - bits):
        return np.argsort(seconds, kind="stable")
    keys = (shifted << bits) | np.arange(size, dtype=np.int64)
    return np.sort(keys) & ((1 << bits) - 1)
